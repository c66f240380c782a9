// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sock: the TCP connections the target processes serve, per interval:
 * accepted and closed connections, distinct client addresses, bytes in and
 * out, retransmits.
 *
 * A connection is the target's when its local port is one the target
 * listens on (in the same network namespace): userspace reads those from
 * /proc/PID/net/tcp{,6} and /proc/PID/fd. This attributes correctly in
 * softirq context, where inet_sock_set_state fires for a passive open
 * (tcp_rcv_state_process, SYN_RECV -> ESTABLISHED) and where retransmit
 * timers run, and it also covers connections opened before cpprof started
 * (kube-apiserver keeps its etcd connections for days).
 *
 * Tracepoints (all raw, by name; include/trace/events/sock.h, tcp.h):
 *   inet_sock_set_state(const struct sock *sk, int oldstate, int newstate)
 *   sock_send_length(struct sock *sk, int ret, int flags)   net/socket.c sock_sendmsg_nosec
 *   sock_recv_length(struct sock *sk, int ret, int flags)   net/socket.c sock_recvmsg_nosec
 *   tcp_retransmit_skb(const struct sock *sk, const struct sk_buff *skb, int err)
 * sock_{send,recv}_length (Linux 6.4+) fire in the calling process for
 * read, write, send* and recv* on sockets, so bytes are counted only for calls
 * made by the target itself (sendfile/splice and io_uring bypass them;
 * Go's net package uses none of those for TCP).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"

#include "cpprof/sock.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AF_INET     2
#define AF_INET6    10
#define IPPROTO_TCP 6
#define MSG_PEEK    2

/* tgid -> 1 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

/* (netns, listening port) -> tgid of the target that listens */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sock_port_key);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64 * 2);
	__type(key, struct sock_gen_key);
	__type(value, struct sock_counts);
} counts SEC(".maps");

/* Distinct remote addresses per target and generation. Sized by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sock_peer_key);
	__type(value, __u64);
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOCK_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Generation new counts go into; flipped by userspace at each interval. */
__u32 gen = 0;

/* The target serving SK (a TCP socket on one of its listening ports), or 0. */
static __always_inline __u32 served_by(const struct sock *sk)
{
	struct sock_port_key k = {};
	__u16 family;
	__u32 *tgid;

	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	/*
	 * inet_sport, not skc_num: on the way to TCP_CLOSE, tcp_set_state()
	 * calls inet_put_port(), which zeroes inet_num, before
	 * inet_sk_state_store() fires the tracepoint (net/ipv4/tcp.c).
	 * inet_sport keeps the port, as the tracepoint's own sport does.
	 */
	k.port = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	k.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	tgid = bpf_map_lookup_elem(&ports, &k);
	return tgid ? *tgid : 0;
}

static __always_inline struct sock_counts *counts_of(__u32 tgid, __u32 g)
{
	struct sock_gen_key k = { .tgid = tgid, .gen = g };
	struct sock_counts zero = {}, *c;

	c = bpf_map_lookup_elem(&counts, &k);
	if (c)
		return c;
	bpf_map_update_elem(&counts, &k, &zero, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&counts, &k);
	if (!c)
		stat_inc(&stats, SOCK_STAT_COUNTS_FULL);
	return c;
}

static __always_inline void add_peer(const struct sock *sk, __u32 tgid, __u32 g)
{
	struct sock_peer_key k = { .tgid = tgid, .gen = g };
	__u64 one = 1;

	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET6) {
		BPF_CORE_READ_INTO(&k.addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(&k.addr[12], &a, 4);
	}
	if (bpf_map_lookup_elem(&peers, &k))
		return;
	if (bpf_map_update_elem(&peers, &k, &one, BPF_NOEXIST) && !bpf_map_lookup_elem(&peers, &k))
		stat_inc(&stats, SOCK_STAT_PEERS_FULL);
}

SEC("raw_tracepoint/inet_sock_set_state")
int set_state(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	int oldstate = ctx->args[1], newstate = ctx->args[2];
	struct sock_counts *c;
	__u32 tgid, g = gen & 1;
	bool accepted, closed;

	accepted = oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED;
	/* Established at some point, now gone; not listeners, not aborted handshakes. */
	closed = newstate == TCP_CLOSE &&
		 (oldstate == TCP_ESTABLISHED || oldstate == TCP_FIN_WAIT1 ||
		  oldstate == TCP_FIN_WAIT2 || oldstate == TCP_CLOSE_WAIT ||
		  oldstate == TCP_LAST_ACK || oldstate == TCP_CLOSING);
	if (!accepted && !closed)
		return 0;
	tgid = served_by(sk);
	if (!tgid)
		return 0;
	c = counts_of(tgid, g);
	if (!c)
		return 0;
	if (accepted) {
		c->accepted += 1;
		add_peer(sk, tgid, g);
	} else {
		c->closed += 1;
	}
	stat_inc(&stats, SOCK_STAT_EVENTS);
	return 0;
}

static __always_inline int count_bytes(struct bpf_raw_tracepoint_args *ctx, bool in)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	int ret = ctx->args[1], flags = ctx->args[2];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, g = gen & 1;
	struct sock_counts *c;

	if (ret <= 0 || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (in && (flags & MSG_PEEK))
		return 0;
	if (served_by(sk) != tgid)
		return 0;
	c = counts_of(tgid, g);
	if (!c)
		return 0;
	if (in)
		c->bytes_in += ret;
	else
		c->bytes_out += ret;
	add_peer(sk, tgid, g);
	stat_inc(&stats, SOCK_STAT_EVENTS);
	return 0;
}

SEC("raw_tracepoint/sock_send_length")
int send_length(struct bpf_raw_tracepoint_args *ctx)
{
	return count_bytes(ctx, false);
}

SEC("raw_tracepoint/sock_recv_length")
int recv_length(struct bpf_raw_tracepoint_args *ctx)
{
	return count_bytes(ctx, true);
}

SEC("raw_tracepoint/tcp_retransmit_skb")
int retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	struct sock_counts *c;
	__u32 tgid = served_by(sk);

	if (!tgid)
		return 0;
	c = counts_of(tgid, gen & 1);
	if (!c)
		return 0;
	c->retransmits += 1;
	stat_inc(&stats, SOCK_STAT_EVENTS);
	return 0;
}
