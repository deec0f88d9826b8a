// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdpflow fast path: parse -> flow lookup -> rewrite + redirect, or hand the
 * packet to the kernel, from two hooks on one flow table: XDP (`xdpflow`,
 * here) and tc ingress (`xdpflow_tc`, tc.h).
 *
 * The programs never drop: whatever they do not fully understand, or may
 * not forward by themselves (TTL expiry, MTU, TCP teardown), goes to the
 * kernel untouched, counted by reason. Untouched means every step after the
 * first write to the frame cannot fail (or is undone).
 */
#include "maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The ingress interface's own MAC is the frame's destination (the kernel's
 * PACKET_HOST): a promiscuous interface (bridge port, macvlan lower device,
 * tcpdump) also receives frames for other hosts, which must never hit. */
/* Whether a frame arriving on ifindex is addressed to the MAC the kernel
 * routes there (FastPath: the device's own, or a bridge port's bridge's). */
static __always_inline int xf_for_us(const void *data, const void *end, __u32 ifindex)
{
	__u32 slot = ifindex % XF_IFACE_SLOTS;
	struct xf_iface *i = bpf_map_lookup_elem(&xf_ifaces, &slot);

	if (!i || i->ifindex != ifindex || data + ETH_HLEN > end)
		return 0;
	return *(__u32 *)data == *(__u32 *)i->mac && *(__u16 *)(data + 4) == *(__u16 *)(i->mac + 4);
}

static __always_inline int xf_xdp_pass(struct xf_counters *c, int reason)
{
	xf_count_slow(c, reason);
	return XDP_PASS;
}

SEC("xdp")
int xdpflow(struct xdp_md *ctx)
{
	struct xf_frame f = {
	    .data = (void *)(long)ctx->data,
	    .end = (void *)(long)ctx->data_end,
	    .ifindex = ctx->ingress_ifindex,
	};
	struct xf_flow_action act, *a = &act;
	struct xf_flow_value *flow;
	struct xf_csum_delta d;
	struct xf_parsed p;
	struct xf_counters *c;
	__u32 egress_l2, trailer;
	void *data, *end;
	int reason, delta;

	c = xf_hook_counters(XF_HOOK_XDP);
	if (!c)
		return XDP_PASS;
	c->rx_packets++;
	f.len = f.end - f.data;

	reason = xf_parse(&f, &p);
	if (reason)
		return xf_xdp_pass(c, reason);
	flow = xf_lookup(&p);
	if (!flow)
		return xf_xdp_pass(c, XF_SLOW_NO_FLOW);
	if (!xf_for_us(f.data, f.end, ctx->ingress_ifindex))
		return xf_xdp_pass(c, XF_SLOW_NOT_FOR_US);
	reason = xf_validate_ip(&f, &p);
	if (reason)
		return xf_xdp_pass(c, reason);
	if (flow->flags & XF_FLOW_TC_ONLY)
		return xf_xdp_pass(c, XF_SLOW_TO_TC);
	reason = xf_snapshot_action(flow, a);
	if (reason)
		return xf_xdp_pass(c, reason);
	reason = xf_refuse_hit(&p, a, p.ip_len);
	if (reason)
		return xf_xdp_pass(c, reason);
	/* Everything that can fail is checked before the packet is touched.
	 * bpf_redirect_map() looks the target up and records it now; it takes
	 * effect only if we return XDP_REDIRECT. */
	if (bpf_redirect_map(&xf_devmap, a->egress_ifindex, XDP_PASS) != XDP_REDIRECT) {
		c->redirect_errors++;
		return xf_xdp_pass(c, XF_SLOW_NO_EGRESS);
	}
	/* The first write: moving the head for the egress layer-2 header. It
	 * changes nothing when it fails. */
	egress_l2 = xf_egress_l2_len(&a->encap);
	delta = (int)p.l2_len - (int)egress_l2;
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return xf_xdp_pass(c, XF_SLOW_ADJUST_FAILED);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (egress_l2 > XF_MAX_L2_LEN ||
	    xf_rewrite_l3l4(data + egress_l2, end, &p, a, &d, XF_HOOK_XDP)) {
		/* Unreachable (parse checked the headers), but if it were not:
		 * moving the head back restores the frame as it arrived. */
		if (delta)
			bpf_xdp_adjust_head(ctx, -delta);
		return xf_xdp_pass(c, XF_SLOW_UNPARSED);
	}
	xf_write_l2(data, end, &p, a);
	/* An Ethernet trailer (padding, or bytes some devices append) is cut
	 * off as ip_rcv_core does: the next hop gets the frame the kernel path
	 * sends. Shrinking cannot fail here (the frame keeps its headers), and
	 * it is the last step. */
	trailer = f.len - p.l2_len - p.ip_len;
	if (trailer)
		bpf_xdp_adjust_tail(ctx, -(int)trailer);
	xf_count_hit(c, flow, f.len);
	return XDP_REDIRECT;
}

#include "tc.h"
