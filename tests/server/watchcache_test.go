package main

import (
	"strings"
	"testing"
	"time"
)

// withWatchCache: a test server whose store models the cacher (-watch-cache)
// with CFG, restored afterwards.
func withWatchCache(t *testing.T, cfg watchCacheConfig) *testEnv {
	old := wcConfig
	t.Cleanup(func() { wcConfig = old })
	cfg.on = true
	if cfg.bookmarkEvery == 0 {
		cfg.bookmarkEvery = time.Hour
	}
	if cfg.fresh == 0 {
		cfg.fresh = wcFresh
	}
	wcConfig = cfg
	return newTestEnv(t, func(api *apiServer, _ *server) {
		api.store.(*store).enableWatchCache(api.stop)
	})
}

func listRV(e *testEnv, path string) string {
	return metadataOf(e.must(200, "GET", path, "", ""))["resourceVersion"].(string)
}

func cms(e *testEnv, n int) {
	for i := 0; i < n; i++ {
		e.must(201, "POST", "/api/v1/namespaces/default/configmaps", "", `{"metadata":{"name":"cm-`+itoa(int64(i))+`"}}`)
	}
}

func isExpired(l []wev) bool {
	return len(l) == 1 && l[0].Type == "ERROR" && l[0].Object["code"] == float64(410) &&
		strings.HasPrefix(l[0].Object["message"].(string), "too old resource version: ")
}

// Each resource has its own window: events of another resource never push
// a quiet one's resourceVersion out (watch_cache.go: one watchCache per
// resource), where the one -watch-history window does.
func TestWatchCachePerResource(t *testing.T) {
	old := historySize
	historySize = 50
	defer func() { historySize = old }()
	for _, cache := range []bool{false, true} {
		var e *testEnv
		if cache {
			e = withWatchCache(t, watchCacheConfig{fresh: time.Nanosecond}) // no growth: 100 events
		} else {
			e = newTestEnv(t, nil)
		}
		rv := listRV(e, "/api/v1/services")
		cms(e, 120)
		got := e.watch("/api/v1/services?watch=1&timeoutSeconds=1&resourceVersion=" + rv)
		if cache && len(got) != 0 {
			t.Errorf("-watch-cache: a quiet resource's watch from before 120 other events: %v, want none", got)
		}
		if !cache && !isExpired(got) {
			t.Errorf("one window: want 410 after 120 other events, got %v", got)
		}
		if cache {
			// the configmaps window kept 100 (capacity 100, no growth): the first 20 are gone
			got = e.watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=" + rv)
			if !isExpired(got) {
				t.Errorf("-watch-cache: configmaps from before 120 events in a 100-event window: %v, want 410", got)
			}
			cur := toInt64(e.api.store.currentRV())
			got = e.watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=" + itoa(cur-99))
			if len(got) != 99 || got[0].Type != "ADDED" {
				t.Errorf("-watch-cache: within the window: %d events, want 99", len(got))
			}
		}
	}
}

// The window doubles while its oldest event is fresher than
// eventFreshDuration (resizeCacheLocked).
func TestWatchCacheGrows(t *testing.T) {
	e := withWatchCache(t, watchCacheConfig{})
	rv := listRV(e, "/api/v1/namespaces/default/configmaps")
	cms(e, 150)
	if got := e.watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=" + rv); len(got) != 150 {
		t.Errorf("150 fresh events: %d replayed, want 150 (the window grew to 200)", len(got))
	}
	st := e.api.store.(*store)
	st.mu.Lock()
	c := st.cacheLocked("", "configmaps").capacity
	st.mu.Unlock()
	if c != 200 {
		t.Errorf("capacity %d, want 200", c)
	}
}

// Bookmarks at the resource's lastProcessedResourceVersion, which a quiet
// resource learns from etcd's progress notifications; none without
// allowWatchBookmarks, none before the watch's start.
func TestWatchCacheBookmarks(t *testing.T) {
	e := withWatchCache(t, watchCacheConfig{bookmarkEvery: 300 * time.Millisecond, progressNotify: 100 * time.Millisecond})
	rv := listRV(e, "/api/v1/services")
	cms(e, 3)
	time.Sleep(250 * time.Millisecond) // a progress notification
	// (a watch shorter than 2 s gets none: nextBookmarkTime stops 2 s before the deadline)
	got := e.watch("/api/v1/services?watch=1&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=" + rv)
	if len(got) == 0 || got[0].Type != "BOOKMARK" {
		t.Fatalf("want bookmarks, got %v", got)
	}
	bm := toInt64(fieldValue(got[0].Object, "metadata.resourceVersion"))
	if bm <= toInt64(rv) || bm > toInt64(e.api.store.currentRV()) || got[0].Object["kind"] != "Service" {
		t.Errorf("bookmark %v: want a Service at a resourceVersion after %s", got[0].Object, rv)
	}
	if got := e.watch("/api/v1/services?watch=1&timeoutSeconds=3&resourceVersion=" + rv); len(got) != 0 {
		t.Errorf("without allowWatchBookmarks: %v, want nothing", got)
	}
	// the last one comes 2 s before the deadline (nextBookmarkTime)
	wcConfig.bookmarkEvery = time.Hour
	start := time.Now()
	got = e.watch("/api/v1/services?watch=1&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=" + rv)
	if len(got) != 1 || got[0].Type != "BOOKMARK" || time.Since(start) < 3*time.Second {
		t.Errorf("pre-deadline bookmark: %v after %v", got, time.Since(start))
	}
}

// -watch-cache-reinit: a window that starts after the client's
// resourceVersion answers 410, and the client's relist at that version is
// served.
func TestWatchCacheReinit(t *testing.T) {
	e := withWatchCache(t, watchCacheConfig{reinit: 150 * time.Millisecond})
	rv := listRV(e, "/api/v1/services")
	cms(e, 1)
	time.Sleep(400 * time.Millisecond)
	if got := e.watch("/api/v1/services?watch=1&timeoutSeconds=1&resourceVersion=" + rv); !isExpired(got) {
		t.Errorf("re-watch from before the window: %v, want 410", got)
	}
	rv2 := listRV(e, "/api/v1/services?resourceVersion="+rv)
	if got := e.watch("/api/v1/services?watch=1&timeoutSeconds=1&resourceVersion=" + rv2); len(got) != 0 {
		t.Errorf("watch from the relist's resourceVersion: %v, want a quiet watch", got)
	}
}
