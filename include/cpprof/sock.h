/* SPDX-License-Identifier: MIT */
/*
 * sock: what bpf/sock.bpf.c and user/trace/sockview.c share. Plain structs with
 * fixed-width fields and explicit padding; userspace checks their sizes
 * with _Static_assert.
 */
#ifndef CPPROF_SOCK_H
#define CPPROF_SOCK_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

/*
 * Key of "ports": a TCP port a target listens on, in a network namespace
 * (the inode number of /proc/PID/ns/net). Connections whose local port is
 * one of these are connections the target serves.
 */
struct sock_port_key {
	__u32 netns;
	__u16 port;      /* host byte order, as sock_common.skc_num */
	__u16 pad;
};

/* Key of "counts" (per CPU) and the first part of "peers": see syscalls.h for gen. */
struct sock_gen_key {
	__u32 tgid;
	__u32 gen;
};

struct sock_counts {
	__u64 accepted;     /* SYN_RECV -> ESTABLISHED on a listening port */
	__u64 closed;       /* served connection, once established, -> CLOSE */
	__u64 bytes_in;     /* sock_recv_length on served connections, by the target */
	__u64 bytes_out;    /* sock_send_length on served connections, by the target */
	__u64 retransmits;  /* tcp_retransmit_skb on served connections */
};

/* Key of "peers": a remote address seen on a served connection in a generation. */
struct sock_peer_key {
	__u32 tgid;
	__u32 gen;
	__u8  addr[16];     /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
};

/* Per-CPU counters in the "stats" map; every drop has one. */
enum sock_stat {
	SOCK_STAT_EVENTS = 0,     /* events counted */
	SOCK_STAT_COUNTS_FULL,    /* counts map full: event lost */
	SOCK_STAT_PEERS_FULL,     /* peers map full: a peer not counted */
	SOCK_STAT__MAX,
};

#endif
