/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The maps and globals both hooks share (one object, one skeleton
 * xf_fastpath), and the decisions common to both: the flow lookup, the
 * refusals of a hit, the counters.
 */
#ifndef XDPFLOW_BPF_MAPS_H
#define XDPFLOW_BPF_MAPS_H

#include "rewrite.h"

/* Both directions of every offloaded connection, one map per address family
 * (compact keys, flow.h). max_entries is set by the loader before load
 * (2 x --max-flows each). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xf_flow_key4);
	__type(value, struct xf_flow_value);
	__uint(max_entries, 2 * XF_DEFAULT_MAX_FLOWS);
} xf_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xf_flow_key6);
	__type(value, struct xf_flow_value);
	__uint(max_entries, 2 * XF_DEFAULT_MAX_FLOWS);
} xf_flows6 SEC(".maps");

/* Per hook (enum xf_hook), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xf_counters);
	__uint(max_entries, XF_HOOK_COUNT);
} xf_counters SEC(".maps");

/* XDP redirect targets, keyed by ifindex: every attached interface. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(max_entries, XF_MAX_INTERFACES);
} xf_devmap SEC(".maps");

/* Attached interfaces, slot ifindex % XF_IFACE_SLOTS (FastPath::add_interface):
 * their MACs, and for TC the list of redirect targets. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xf_iface);
	__uint(max_entries, XF_IFACE_SLOTS);
} xf_ifaces SEC(".maps");

/* Control-plane liveness and totals, written by the loader only; lets
 * `xdpflow status` in another process read them through the map id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xf_status);
	__uint(max_entries, 1);
} xf_status SEC(".maps");

/* CLOCK_MONOTONIC ns as the control plane last published it (every loop
 * iteration, so at most about 100 ms old): the hit's timestamp without a
 * helper call (bpf_ktime_get_coarse_ns() and its return cost 2 % of the
 * forwarding time, perf). */
volatile __u64 xf_clock_ns = 0;

/*
 * The published clock, never torn: a 32-bit JIT loads a 64-bit word as two
 * 32-bit loads, and the low half wraps every 4.3 s. Reading high, low, high
 * and taking the low half again when the high one moved gives a value the
 * control plane did publish (it stores the whole word at once). On a 64-bit
 * JIT this is three loads of one cache line instead of one.
 */
static __always_inline __u64 xf_read_clock(void)
{
	volatile __u32 *w = (volatile __u32 *)&xf_clock_ns;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const int lo = 0, hi = 1;
#else
	const int lo = 1, hi = 0;
#endif
	__u32 h1 = w[hi], l = w[lo], h2 = w[hi];

	if (h1 != h2)
		l = w[lo];
	return (__u64)h2 << 32 | l;
}

static __always_inline struct xf_counters *xf_hook_counters(__u32 hook)
{
	return bpf_map_lookup_elem(&xf_counters, &hook);
}

static __always_inline void xf_count_slow(struct xf_counters *c, int reason)
{
	if ((unsigned int)reason < XF_SLOW_MAX)
		c->slow[reason]++;
}

/* Two call sites, each with its own map: the verifier inlines a hash lookup
 * only where the map is known, and clang would otherwise merge the calls
 * into one with the map chosen at run time (seen in perf as the generic
 * htab_map_lookup_elem path). The differing asm statements keep the calls
 * apart; each is one register move, because an empty one can leave two
 * line-info records on one instruction, which the kernel rejects. */
static __always_inline struct xf_flow_value *xf_lookup(struct xf_parsed *p)
{
	struct xf_flow_value *flow;

	if (p->family == XF_FAMILY_IPV4) {
		flow = bpf_map_lookup_elem(&xf_flows4, &p->key4);
		asm volatile("/* ipv4 lookup */\n\t%0 = %0" : "+r"(flow));
	} else {
		flow = bpf_map_lookup_elem(&xf_flows6, &p->key6);
		asm volatile("/* ipv6 lookup */\n\t%0 = %0" : "+r"(flow));
	}
	return flow;
}

/*
 * Copies the hit's action out of the entry, each word read once, and checks
 * that the copy is one version whole (flow.h, "No torn entries"): 0, or
 * XF_SLOW_TORN. Everything after uses the copy only.
 */
static __always_inline int xf_snapshot_action(const struct xf_flow_value *flow,
					      struct xf_flow_action *out)
{
	const volatile __u64 *src = (const volatile __u64 *)&flow->action;
	__u64 *dst = (__u64 *)out;
	__u64 w0 = src[0], w1 = src[1], w2 = src[2], w3 = src[3];
	__u64 w4 = src[4], w5 = src[5], w6 = src[6], w7 = src[7];
	__u64 check = *(const volatile __u64 *)&flow->action_check;

	dst[0] = w0;
	dst[1] = w1;
	dst[2] = w2;
	dst[3] = w3;
	dst[4] = w4;
	dst[5] = w5;
	dst[6] = w6;
	dst[7] = w7;
	return xf_action_check_words(w0, w1, w2, w3, w4, w5, w6, w7) == check ? 0 : XF_SLOW_TORN;
}

/* The refusals every hit goes through in both hooks, after the hook's own
 * (destination MAC, TC_ONLY / stale clock): 0 or the slow reason. */
static __always_inline int xf_refuse_hit(const struct xf_parsed *p, const struct xf_flow_action *a,
					 __u32 l3_seg_len)
{
	if (p->tcp_fin_rst)
		return XF_SLOW_TCP_FIN_RST;
	if (p->ttl <= 1)
		return XF_SLOW_TTL;
	if (l3_seg_len > a->mtu)
		return XF_SLOW_MTU;
	return 0;
}

/* Counts a hit. Plain increments, not atomics: a locked add waits for the
 * header stores to drain, twice per packet (perf, `scripts/bench`). One
 * direction of a connection is handled by one CPU at a time (the NIC's RSS
 * hashes the 5-tuple to one queue and XDP runs before RPS), so increments
 * are lost only if one direction is spread over CPUs at once, and then only
 * some of them: the counters stay approximate totals and last_seen_ns still
 * moves, which is all the control plane uses them for. */
static __always_inline void xf_count_hit(struct xf_counters *c, struct xf_flow_value *flow,
					 __u64 frame_len)
{
	flow->packets++;
	flow->bytes += frame_len;
	flow->last_seen_ns = xf_read_clock();
	c->fast_packets++;
	c->fast_bytes += frame_len;
}

#endif /* XDPFLOW_BPF_MAPS_H */
