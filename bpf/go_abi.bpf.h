/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * go_abi: readers for Go values in a traced process's memory. Go types
 * have no BTF, so these read raw headers with bpf_probe_read_user; the
 * offsets of fields inside Go structs come from userspace, per Go version.
 */
#ifndef CPPROF_GO_ABI_BPF_H
#define CPPROF_GO_ABI_BPF_H

/* A Go string header, and the first two words of a slice header
 * (runtime/string.go stringStruct, runtime/slice.go slice). */
struct go_string {
	__u64 ptr;
	__u64 len;
};

/* The pointer-sized word at ADDR of the traced process; 0 and *ERR = 1
 * when it cannot be read. */
static __always_inline __u64 go_read_ptr(__u64 addr, int *err)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		*err = 1;
	return v;
}

/* Copy at most MASK bytes (MASK = size-1, size a power of two) of the Go
 * string or []byte whose header is at HDR into DST; full length in *LENP
 * (clamped to 32 bits). Sets *ERRP to 1 when a read fails. */
#define READ_GOSTR(dst, mask, hdr, lenp, errp) do {                          \
	struct go_string s__ = {};                                             \
	__u64 n__;                                                              \
	if (bpf_probe_read_user(&s__, sizeof(s__), (void *)(hdr))) {            \
		*(errp) = 1;                                                    \
		break;                                                          \
	}                                                                       \
	*(lenp) = s__.len > 0xffffffffULL ? 0xffffffffU : (__u32)s__.len;     \
	n__ = s__.len < (mask) ? s__.len : (mask);                              \
	n__ &= (mask);                                                          \
	if (n__ && bpf_probe_read_user((dst), n__, (void *)s__.ptr))            \
		*(errp) = 1;                                                    \
} while (0)

#endif /* CPPROF_GO_ABI_BPF_H */
