package main

// The watch cache (-watch-cache): kube-apiserver's cacher, per resource, as
// k8s.io/apiserver 0.36 pkg/storage/cacher has it, for the in-memory store.
// Without -watch-cache the store keeps one window of -watch-history events
// over all resources and sends no bookmarks but a watch-list's last one
// (the behaviour every other suite was written against).
//
// What kube-apiserver does, and this models:
//
//   - Each resource has its own window of events (watch_cache.go
//     updateCache, resizeCacheLocked): capacity 100 (defaultLowerBoundCapacity),
//     doubled up to 102,400 (defaultUpperBoundCapacity) when it is full and
//     its oldest event is younger than eventFreshDuration (75 s:
//     DefaultEventFreshDuration, defaultBookmarkFrequency + 15 s), halved
//     when it is full and the newest quarter is older than that; a full
//     window drops its oldest event (removedEventSinceRelist).
//   - A watch from resourceVersion N (getAllEventsSinceLocked): the oldest
//     event it can be served is listResourceVersion+1 while no event was
//     dropped since the cache listed, else the window's first event; N
//     below that one minus one is an ERROR event "too old resource version:
//     N (oldest-1)" (410 Expired), after which client-go's reflector lists
//     again. Events of other resources never move this window.
//   - Bookmarks (cacher.go dispatchEvents, cache_watcher.go
//     nextBookmarkTime): to watches with allowWatchBookmarks, about every
//     minute (defaultBookmarkFrequency) and 2 s before the watch's deadline
//     (its timeoutSeconds), at the resource's lastProcessedResourceVersion,
//     when that is newer than the resourceVersion the watch started from
//     (cacheWatcher.process). lastProcessedResourceVersion moves with the
//     resource's events and with etcd's progress notifications (the
//     cacher's etcd watch asks for them: lister_watcher.go ProgressNotify;
//     etcd sends one to an idle watch every
//     --experimental-watch-progress-notify-interval, 10 min by default):
//     -progress-notify-interval here.
//
// So a client that asks for bookmarks re-watches from a resourceVersion the
// window still holds: a quiet resource (services, csidrivers) never drops
// an event, and a busy one keeps 75 s, longer than the bookmark period.
// What can make a steady kubelet's informer relist is a window that
// starts after the resourceVersion the client holds: the cacher listed
// again (watchCache.Replace empties the window and sets
// listResourceVersion: after its etcd watch failed, or in another
// kube-apiserver behind the same load balancer, which started later, or
// in a restarted one). -watch-cache-reinit models that: every DURATION
// each resource's window starts over at the current resourceVersion
// (watches in flight go on, as on the other server).

import (
	"strconv"
	"time"
)

const (
	wcLowerBound    = 100        // watch_cache.go defaultLowerBoundCapacity
	wcUpperBound    = 100 * 1024 // defaultUpperBoundCapacity
	wcFresh         = 75 * time.Second
	bookmarkEarly   = 2 * time.Second // nextBookmarkTime: 2 s before the deadline
	defaultBookmark = time.Minute     // defaultBookmarkFrequency
)

// watchCacheConfig: set from flags before the store serves.
type watchCacheConfig struct {
	on             bool
	bookmarkEvery  time.Duration
	progressNotify time.Duration
	reinit         time.Duration
	fresh          time.Duration // eventFreshDuration (tests shorten it)
}

var wcConfig = watchCacheConfig{bookmarkEvery: defaultBookmark, progressNotify: 10 * time.Minute, fresh: wcFresh}

type cacheEvent struct {
	h  histEvent
	at time.Time
}

// resCache: one resource's window. evs holds the events in order, oldest
// first; len(evs) <= capacity.
type resCache struct {
	evs                []cacheEvent
	capacity           int
	listRV             int64 // listResourceVersion
	removedSinceRelist bool
	lastRV             int64 // lastProcessedResourceVersion
}

// watchCaches: every resource's window, under store.mu.
type watchCaches struct {
	byRes  map[string]*resCache
	listRV int64 // for a resource first seen later: when the caches listed
}

func resKey(group, resource string) string { return group + "/" + resource }

// cacheLocked returns the resource's window; s.mu held.
func (s *store) cacheLocked(group, resource string) *resCache {
	k := resKey(group, resource)
	c := s.wc.byRes[k]
	if c == nil {
		c = &resCache{capacity: wcLowerBound, listRV: s.wc.listRV, lastRV: s.wc.listRV}
		s.wc.byRes[k] = c
	}
	return c
}

// enableWatchCache: the caches list now (at the store's current
// resourceVersion), and the progress notifications and -watch-cache-reinit
// start. Called once, before serving.
func (s *store) enableWatchCache(stop <-chan struct{}) {
	s.mu.Lock()
	s.wc = &watchCaches{byRes: map[string]*resCache{}, listRV: s.rv}
	s.mu.Unlock()
	tick := func(d time.Duration, fn func()) {
		if d <= 0 {
			return
		}
		go func() {
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					fn()
				case <-stop:
					return
				}
			}
		}()
	}
	// etcd's progress notification: watchCache.UpdateResourceVersion, whose
	// bookmark event moves dispatchEvents' lastProcessedResourceVersion
	tick(wcConfig.progressNotify, func() {
		s.mu.Lock()
		for _, c := range s.wc.byRes {
			c.lastRV = s.rv
		}
		s.mu.Unlock()
	})
	// the cacher listing again (watchCache.Replace)
	tick(wcConfig.reinit, func() {
		s.mu.Lock()
		s.wc.listRV = s.rv
		for _, c := range s.wc.byRes {
			c.evs = c.evs[:0]
			c.removedSinceRelist = false
			c.listRV = s.rv
			if c.lastRV < s.rv {
				c.lastRV = s.rv
			}
		}
		s.mu.Unlock()
	})
}

// add: updateCache with resizeCacheLocked first; s.mu held.
func (c *resCache) add(h histEvent, now time.Time) {
	full := len(c.evs) == c.capacity
	switch {
	case full && now.Sub(c.evs[0].at) < wcConfig.fresh:
		if n := c.capacity * 2; n <= wcUpperBound {
			c.capacity = n
		} else {
			c.capacity = wcUpperBound
		}
	case full && now.Sub(c.evs[len(c.evs)-c.capacity/4].at) > wcConfig.fresh:
		n := c.capacity / 2
		if n < wcLowerBound {
			n = wcLowerBound
		}
		if n < c.capacity {
			// doCacheResizeLocked keeps the newest n (and, as there,
			// without setting removedEventSinceRelist)
			c.evs = append(c.evs[:0:0], c.evs[len(c.evs)-n:]...)
			c.capacity = n
		}
	}
	if len(c.evs) == c.capacity {
		c.evs = c.evs[1:]
		c.removedSinceRelist = true
	}
	c.evs = append(c.evs, cacheEvent{h, now})
	c.lastRV = h.rv
}

// since: getAllEventsSinceLocked's check and interval; s.mu held.
func (c *resCache) since(rv int64) ([]histEvent, *apiError) {
	var oldest int64
	switch {
	case !c.removedSinceRelist:
		// (the real one also asks listResourceVersion > 0, i.e. that
		// the cache has listed: here it listed when -watch-cache began,
		// possibly at 0, an empty store)
		oldest = c.listRV + 1
	case len(c.evs) > 0:
		oldest = c.evs[0].h.rv
	default:
		return nil, &apiError{500, "InternalError", "watch cache isn't correctly initialized", nil}
	}
	if rv < oldest-1 {
		return nil, &apiError{410, "Expired", "too old resource version: " + strconv.FormatInt(rv, 10) + " (" + strconv.FormatInt(oldest-1, 10) + ")", nil}
	}
	var out []histEvent
	for _, e := range c.evs {
		if e.h.rv > rv {
			out = append(out, e.h)
		}
	}
	return out, nil
}

// bookmarkRV: the resource's lastProcessedResourceVersion, for a bookmark.
func (s *store) bookmarkRV(group, resource string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cacheLocked(group, resource).lastRV
}

// nextBookmark: cache_watcher.go nextBookmarkTime: a minute from now, or 2 s
// before the deadline if that comes first; none once that has passed.
func nextBookmark(now, deadline time.Time) (time.Time, bool) {
	t := now.Add(wcConfig.bookmarkEvery)
	if pre := deadline.Add(-bookmarkEarly); pre.Before(t) {
		t = pre
	}
	if t.Before(now) {
		return time.Time{}, false
	}
	return t, true
}
