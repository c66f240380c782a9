// SPDX-License-Identifier: MIT
/*
 * sched: a binary min-heap of timers ordered by due time. Each timer
 * remembers its index so it can be moved or removed in O(log n).
 */
#include <errno.h>
#include <stdlib.h>

#include "sched.h"

static void swap(struct sched *s, size_t a, size_t b)
{
	struct hl_timer *t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->heap[a]->idx = a + 1;
	s->heap[b]->idx = b + 1;
}

static void up(struct sched *s, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (s->heap[p]->due <= s->heap[i]->due)
			break;
		swap(s, p, i);
		i = p;
	}
}

static void down(struct sched *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->len && s->heap[l]->due < s->heap[m]->due)
			m = l;
		if (r < s->len && s->heap[r]->due < s->heap[m]->due)
			m = r;
		if (m == i)
			return;
		swap(s, i, m);
		i = m;
	}
}

void sched__del(struct sched *s, struct hl_timer *t)
{
	size_t i;

	if (!t || !t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	s->len--;
	if (i == s->len)
		return;
	s->heap[i] = s->heap[s->len];
	s->heap[i]->idx = i + 1;
	up(s, i);
	down(s, s->heap[i]->idx - 1);
}

int sched__add(struct sched *s, struct hl_timer *t, double due)
{
	sched__del(s, t);
	if (s->len == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct hl_timer **h = realloc(s->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->cap = cap;
	}
	t->due = due;
	s->heap[s->len] = t;
	t->idx = ++s->len;
	up(s, s->len - 1);
	return 0;
}

int sched__run(struct sched *s, double now)
{
	int n = 0;

	while (s->len && s->heap[0]->due <= now) {
		struct hl_timer *t = s->heap[0];

		sched__del(s, t);
		t->fn(t);
		n++;
	}
	return n;
}

double sched__next(const struct sched *s)
{
	return s->len ? s->heap[0]->due : -1;
}

void sched__free(struct sched *s)
{
	for (size_t i = 0; i < s->len; i++)
		s->heap[i]->idx = 0;
	free(s->heap);
	s->heap = NULL;
	s->len = s->cap = 0;
}
