// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdpflow fast path: parse -> flow lookup -> rewrite + redirect, or XDP_PASS.
 *
 * The program never drops: whatever it does not fully understand, or may not
 * forward by itself (TTL expiry, MTU, TCP teardown), goes to the kernel
 * untouched, counted by reason.
 */
#include "rewrite.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xf_counters);
	__uint(max_entries, 1);
} xf_counters SEC(".maps");

/* Redirect targets, keyed by ifindex: every attached interface. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(max_entries, XF_MAX_INTERFACES);
} xf_devmap SEC(".maps");

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

static __always_inline int xf_pass(struct xf_counters *c, int reason)
{
	if ((unsigned int)reason < XF_SLOW_MAX)
		c->slow[reason]++;
	return XDP_PASS;
}

SEC("xdp")
int xdpflow(struct xdp_md *ctx)
{
	struct xf_parsed p;
	struct xf_flow_value *flow;
	struct xf_counters *c;
	__u32 zero = 0;
	__u64 frame_len = ctx->data_end - ctx->data;
	int reason;

	c = bpf_map_lookup_elem(&xf_counters, &zero);
	if (!c)
		return XDP_PASS;
	c->rx_packets++;

	reason = xf_parse(ctx, &p);
	if (reason != XF_SLOW_MAX)
		return xf_pass(c, reason);

	/* Two call sites, each with its own map: the verifier inlines a hash
	 * lookup only where the map is known, and clang would otherwise merge
	 * the calls into one with the map chosen at run time (seen in perf as
	 * the generic htab_map_lookup_elem path). The differing empty asm
	 * statements keep the calls apart. */
	if (p.family == XF_FAMILY_IPV4) {
		flow = bpf_map_lookup_elem(&xf_flows4, &p.key4);
		asm volatile("/* ipv4 lookup */" : "+r"(flow));
	} else {
		flow = bpf_map_lookup_elem(&xf_flows6, &p.key6);
		asm volatile("/* ipv6 lookup */" : "+r"(flow));
	}
	if (!flow)
		return xf_pass(c, XF_SLOW_NO_FLOW);
	if (p.tcp_fin_rst)
		return xf_pass(c, XF_SLOW_TCP_FIN_RST);
	if (p.ttl <= 1)
		return xf_pass(c, XF_SLOW_TTL);
	if (p.ip_len > flow->action.mtu)
		return xf_pass(c, XF_SLOW_MTU);
	/* Everything that can fail is checked before the packet is touched, so
	 * a refusal always hands the kernel the frame as it arrived. That holds
	 * for the egress too: bpf_redirect_map() looks the target up and records
	 * it now, and it takes effect only if we return XDP_REDIRECT. */
	if (bpf_redirect_map(&xf_devmap, flow->action.egress_ifindex, XDP_PASS) != XDP_REDIRECT) {
		c->redirect_errors++;
		return xf_pass(c, XF_SLOW_NO_EGRESS);
	}
	if (xf_resize_l2(ctx, &p, &flow->action.encap)) {
		c->redirect_errors++;
		return xf_pass(c, XF_SLOW_NO_EGRESS);
	}
	if (xf_rewrite_l3l4(ctx, &p, &flow->action))
		return xf_pass(c, XF_SLOW_UNPARSED); /* unreachable: parse checked */
	xf_write_l2(ctx, &p, &flow->action);
	/* Plain increments, not atomics: a locked add waits for the header
	 * stores above to drain, twice per packet (perf, `scripts/bench`).
	 * One direction of a connection is handled by one CPU at a time (the
	 * NIC's RSS hashes the 5-tuple to one queue and XDP runs before RPS),
	 * so increments are lost only if one direction is spread over CPUs at
	 * once, and then only some of them: the counters stay approximate
	 * totals and last_seen_ns still moves, which is all the control plane
	 * uses them for. */
	flow->packets++;
	flow->bytes += frame_len;
	flow->last_seen_ns = xf_clock_ns;
	c->fast_packets++;
	c->fast_bytes += frame_len;
	return XDP_REDIRECT;
}
