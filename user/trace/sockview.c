// SPDX-License-Identifier: MIT
/*
 * sockview: load bpf/sock.bpf.c, tell it which (network namespace, port)
 * pairs each target listens on, and turn its counters into a sock_stats
 * row per target and interval. Generations as in syslat.c: BPF counts into
 * "gen", a flush flips it and then reads and deletes the other one.
 *
 * Listening ports come from /proc/PID/net/tcp and tcp6 (state 0A, LISTEN;
 * they list the whole network namespace), kept only when the socket's
 * inode is one of PID's open files in /proc/PID/fd. They are re-read at
 * every flush, so a port opened after attaching counts from the next
 * interval on.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "log.h"
#include "sock.skel.h"
#include "sockview.h"
#include "store.h"

_Static_assert(sizeof(struct sock_port_key) == 8, "sock_port_key layout changed");
_Static_assert(sizeof(struct sock_gen_key) == 8, "sock_gen_key layout changed");
_Static_assert(sizeof(struct sock_counts) == 40, "sock_counts layout changed");
_Static_assert(sizeof(struct sock_peer_key) == 24, "sock_peer_key layout changed");

#define SOCK_MAX_TARGETS 64
#define SOCK_MAX_PORTS   64    /* per target */
#define SOCK_MAX_PEERS   65536 /* per generation, all targets */

struct sock_target {
	int pid;
	int64_t target_id;
	char *component;
	int64_t since_ns;
	uint32_t netns;
	uint16_t ports[SOCK_MAX_PORTS];   /* in the BPF "ports" map now */
	int nports;
	bool gone;                        /* exited: its last interval is stored, then the slot freed */
	int64_t added_ns;                 /* CLOCK_REALTIME */
};

struct sockview {
	struct sock_bpf *skel;
	struct sock_target t[SOCK_MAX_TARGETS];
	int nt;
	int ncpus;
	struct sock_counts *percpu;
	struct sock_peer_key *pkeys;      /* SOCK_MAX_PEERS * 2 */
};

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Is "socket:[INODE]" among PID's open files? */
static int has_socket(int pid, unsigned long inode)
{
	char dir[64], p[320], want[64], link[64];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found;
}

int sockview__listen_ports(int pid, uint16_t *ports, int max, uint32_t *netns)
{
	static const char *const files[] = { "tcp", "tcp6" };
	char p[64], line[512];
	struct stat sb;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", pid);
	if (stat(p, &sb) < 0) {
		int err = -errno;

		cp_seterr("cannot read the network namespace of pid %d: %s", pid, strerror(errno));
		return err;
	}
	*netns = (uint32_t)sb.st_ino;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		FILE *fp;

		snprintf(p, sizeof(p), "/proc/%d/net/%s", pid, files[f]);
		fp = fopen(p, "re");
		if (!fp)
			continue; /* no IPv6 */
		/* "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode" */
		while (fgets(line, sizeof(line), fp)) {
			char local[64];
			unsigned st, port;
			unsigned long inode;
			int dup = 0;
			char *colon;

			if (sscanf(line, " %*u: %63s %*s %x %*s %*s %*s %*u %*u %lu", local, &st,
				   &inode) != 3)
				continue;
			if (st != 0x0A) /* TCP_LISTEN */
				continue;
			colon = strrchr(local, ':');
			if (!colon || sscanf(colon + 1, "%x", &port) != 1)
				continue;
			for (int i = 0; i < n; i++)
				dup |= ports[i] == port;
			if (dup || n >= max || has_socket(pid, inode) != 1)
				continue;
			ports[n++] = (uint16_t)port;
		}
		fclose(fp);
	}
	return n;
}

/* Make the BPF "ports" map hold T's current listening ports. */
static void refresh_ports(struct sockview *sv, struct sock_target *t)
{
	int fd = bpf_map__fd(sv->skel->maps.ports);
	uint16_t now[SOCK_MAX_PORTS];
	uint32_t netns = 0, tgid = t->pid;
	int n;

	n = sockview__listen_ports(t->pid, now, SOCK_MAX_PORTS, &netns);
	if (n < 0)
		return; /* exited: keep the old ports, the counters just stop */
	for (int i = 0; i < t->nports; i++) {
		struct sock_port_key k = { .netns = t->netns, .port = t->ports[i] };
		int keep = netns == t->netns;

		for (int j = 0; keep && j < n; j++)
			if (now[j] == t->ports[i])
				goto kept;
		bpf_map_delete_elem(fd, &k);
kept:;
	}
	for (int j = 0; j < n; j++) {
		struct sock_port_key k = { .netns = netns, .port = now[j] };

		if (bpf_map_update_elem(fd, &k, &tgid, BPF_ANY))
			verbose("cannot follow port %u of pid %d: %s\n", now[j], t->pid,
				strerror(errno));
	}
	memcpy(t->ports, now, n * sizeof(now[0]));
	t->nports = n;
	t->netns = netns;
}

struct sockview *sockview__open(int *err)
{
	struct sockview *sv;

	*err = bpfutil__require_root();
	if (*err)
		return NULL;
	sv = calloc(1, sizeof(*sv));
	if (!sv) {
		*err = -ENOMEM;
		return NULL;
	}
	sv->ncpus = bpfutil__possible_cpus();
	if (sv->ncpus <= 0) {
		*err = sv->ncpus;
		goto fail;
	}
	sv->percpu = calloc(sv->ncpus, sizeof(*sv->percpu));
	sv->pkeys = calloc(SOCK_MAX_PEERS * 2, sizeof(*sv->pkeys));
	if (!sv->percpu || !sv->pkeys) {
		*err = -ENOMEM;
		goto fail;
	}
	sv->skel = sock_bpf__open();
	if (!sv->skel) {
		*err = -errno;
		cp_seterr("cannot open sock BPF object: %s", strerror(errno));
		goto fail;
	}
	bpf_map__set_max_entries(sv->skel->maps.targets, SOCK_MAX_TARGETS);
	bpf_map__set_max_entries(sv->skel->maps.ports, SOCK_MAX_TARGETS * SOCK_MAX_PORTS);
	bpf_map__set_max_entries(sv->skel->maps.counts, SOCK_MAX_TARGETS * 2);
	bpf_map__set_max_entries(sv->skel->maps.peers, SOCK_MAX_PEERS * 2);
	*err = sock_bpf__load(sv->skel);
	if (*err) {
		bpfutil__load_failed("sock BPF programs", *err);
		goto fail;
	}
	*err = sock_bpf__attach(sv->skel);
	if (*err) {
		cp_seterr("cannot attach to the sock/tcp raw tracepoints: %s (sock_send_length needs Linux 6.4+)",
			  strerror(-*err));
		goto fail;
	}
	return sv;
fail:
	sockview__close(sv);
	return NULL;
}

void sockview__close(struct sockview *sv)
{
	if (!sv)
		return;
	sock_bpf__destroy(sv->skel);
	for (int i = 0; i < sv->nt; i++)
		free(sv->t[i].component);
	free(sv->percpu);
	free(sv->pkeys);
	free(sv);
}

int sockview__add_target(struct sockview *sv, int pid, int64_t target_id, const char *component)
{
	struct sock_target *t;
	uint32_t key = pid, one = 1;

	if (sv->nt >= SOCK_MAX_TARGETS) {
		cp_seterr("too many targets for the socket view (at most %d)", SOCK_MAX_TARGETS);
		return -E2BIG;
	}
	t = &sv->t[sv->nt];
	memset(t, 0, sizeof(*t));
	t->component = strdup(component ? component : "");
	if (!t->component)
		return -ENOMEM;
	t->pid = pid;
	t->target_id = target_id;
	t->since_ns = t->added_ns = realtime_ns();
	if (bpf_map_update_elem(bpf_map__fd(sv->skel->maps.targets), &key, &one, BPF_ANY)) {
		int err = -errno;

		cp_seterr("cannot add pid %d to the socket targets: %s", pid, strerror(errno));
		free(t->component);
		return err;
	}
	refresh_ports(sv, t);
	sv->nt++;
	return 0;
}

int sockview__flush(struct sockview *sv, struct store *st, int64_t run_id, int64_t now_ns)
{
	int cfd = bpf_map__fd(sv->skel->maps.counts), pfd = bpf_map__fd(sv->skel->maps.peers);
	uint32_t old = sv->skel->bss->gen & 1;
	struct sock_peer_key pk, pnext;
	int64_t npeers[SOCK_MAX_TARGETS] = { 0 };
	int nkeys = 0, rows = 0, err;
	void *prev = NULL;

	__atomic_store_n(&sv->skel->bss->gen, old ^ 1, __ATOMIC_SEQ_CST);

	while (bpf_map_get_next_key(pfd, prev, &pnext) == 0) {
		if (pnext.gen == old && nkeys < SOCK_MAX_PEERS * 2)
			sv->pkeys[nkeys++] = pnext;
		pk = pnext;
		prev = &pk;
	}
	for (int k = 0; k < nkeys; k++) {
		if (bpf_map_delete_elem(pfd, &sv->pkeys[k]))
			continue;
		/* the newest: a restarted server may get an exited one's pid */
		for (int i = sv->nt - 1; i >= 0; i--)
			if ((uint32_t)sv->t[i].pid == sv->pkeys[k].tgid) {
				npeers[i]++;
				break;
			}
	}

	for (int i = 0; i < sv->nt; i++) {
		struct sock_target *t = &sv->t[i];
		struct sock_gen_key gk = { .tgid = t->pid, .gen = old };
		struct sock_stats_rec r = {
			.run_id = run_id, .target_id = t->target_id, .component = t->component,
			.interval_start_ns = t->since_ns, .interval_ns = now_ns - t->since_ns,
			.peers = npeers[i],
		};

		if (bpf_map_lookup_and_delete_elem(cfd, &gk, sv->percpu) == 0) {
			for (int c = 0; c < sv->ncpus; c++) {
				r.accepted += sv->percpu[c].accepted;
				r.closed += sv->percpu[c].closed;
				r.bytes_in += sv->percpu[c].bytes_in;
				r.bytes_out += sv->percpu[c].bytes_out;
				r.retransmits += sv->percpu[c].retransmits;
			}
		}
		err = store__add_sock_stats(st, &r);
		if (err)
			return err;
		rows++;
		t->since_ns = now_ns;
		if (!t->gone)
			refresh_ports(sv, t);
	}
	/* exited targets had their last interval: free their slots */
	{
		int j = 0;

		for (int i = 0; i < sv->nt; i++) {
			if (sv->t[i].gone)
				free(sv->t[i].component);
			else
				sv->t[j++] = sv->t[i];
		}
		sv->nt = j;
	}
	return rows;
}

/*
 * A server found as it starts (a restart, followed) may not listen yet:
 * its accepts are counted by port, so look for its ports on every poll
 * until it listens, for its first 60 s (then at each flush, as for all).
 */
void sockview__poll(struct sockview *sv)
{
	int64_t now = realtime_ns();

	for (int i = 0; i < sv->nt; i++) {
		struct sock_target *t = &sv->t[i];

		if (!t->gone && !t->nports && now - t->added_ns < 60 * 1000000000LL)
			refresh_ports(sv, t);
	}
}

void sockview__remove_target(struct sockview *sv, int pid)
{
	int pfd = bpf_map__fd(sv->skel->maps.ports);
	uint32_t key = pid, owner;

	for (int i = sv->nt - 1; i >= 0; i--) {
		struct sock_target *t = &sv->t[i];

		if (t->pid != pid || t->gone)
			continue;
		/* a reused pid is not counted as this target's, nor its ports */
		bpf_map_delete_elem(bpf_map__fd(sv->skel->maps.targets), &key);
		for (int k = 0; k < t->nports; k++) {
			struct sock_port_key pk = { .netns = t->netns, .port = t->ports[k] };

			if (bpf_map_lookup_elem(pfd, &pk, &owner) == 0 && owner == key)
				bpf_map_delete_elem(pfd, &pk);
		}
		t->gone = true;
		return;
	}
}

void sockview__stats(struct sockview *sv, uint64_t out[SOCK_STAT__MAX])
{
	uint64_t v[sv->ncpus];

	bpfutil__percpu_sum_buf(bpf_map__fd(sv->skel->maps.stats), SOCK_STAT__MAX, sv->ncpus, v, out);
}
