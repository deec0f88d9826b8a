// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Times the gateway's NAPI kthreads from the napi:napi_poll tracepoint
 * (fentry/fexit and kprobes do not attach on this kernel; tracepoints do):
 * see struct xfb_napi_stats in bench_proto.h. Only polls run by the threads
 * named in pids[] count.
 */
/* UAPI types before libbpf's helper headers, which use them. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#include "bench_proto.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The tracepoint's record (tracing/events/napi/napi_poll/format). */
struct napi_poll_args {
	__u64 common;
	void *napi;
	__u32 dev_name_loc;
	int work;
	int budget;
};

const volatile __u32 pids[XFB_MAX_NAPI] = {};
struct xfb_napi_stats stats[XFB_MAX_NAPI] = {};

/* Longer than any poll: a gap this long is not "at once". */
#define XFB_MAX_INTERVAL_NS 2000000ull

SEC("tracepoint/napi/napi_poll")
int xfb_napi_poll(struct napi_poll_args *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct xfb_napi_stats *s = 0;
	__u64 now;
	int full;

	for (int i = 0; i < XFB_MAX_NAPI; i++)
		if (pids[i] && pids[i] == tid)
			s = &stats[i];
	if (!s)
		return 0;
	now = bpf_ktime_get_ns();
	full = a->work >= a->budget;
	s->polls++;
	s->packets += a->work;
	if (full && s->last_full && now - s->last_ns < XFB_MAX_INTERVAL_NS) {
		s->full_intervals++;
		s->full_packets += a->work;
		s->full_ns += now - s->last_ns;
	}
	s->last_full = full;
	s->last_ns = now;
	return 0;
}
