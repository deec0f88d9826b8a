/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tc ingress hook (`xdpflow_tc`, included by xdpflow.bpf.c): the same
 * parser, lookup and rewrite as XDP, on an skb. Used where XDP cannot
 * forward exactly as the kernel does: veth/tap senders that leave the L4
 * checksum to offload (CHECKSUM_PARTIAL), GRO aggregates (GSO skbs), and
 * shaped egresses, whose qdisc bpf_redirect() goes through.
 *
 * What differs from XDP:
 * - checksums through bpf_l3/l4_csum_replace (BPF_F_PSEUDO_HDR for the
 *   addresses), which are right for CHECKSUM_PARTIAL, COMPLETE and GSO;
 * - the MTU through bpf_check_mtu(), which knows GSO;
 * - a VLAN tag the NIC stripped (skb->vlan_tci) is the key's outer tag;
 * - the layer-2 header can only grow (bpf_skb_change_head): an egress
 *   header shorter than the arriving one, PPPoE on a GSO skb, or a stripped
 *   tag followed by another in the frame are refused (XF_SLOW_TC_UNSUPPORTED)
 *   and the kernel forwards them;
 * - frames with an Ethernet trailer are refused (XF_SLOW_TRAILER): trimming
 *   an skb (bpf_skb_change_tail) can fail after the first write and resets
 *   GSO state, and veth/tap, where this hook runs, never pad;
 * - it stops forwarding when the control plane's clock is stale (a clsact
 *   filter outlives a killed control plane).
 */
#ifndef XDPFLOW_BPF_TC_H
#define XDPFLOW_BPF_TC_H

#define XF_TC_ACT_OK 0
#define XF_TC_ACT_REDIRECT 7
#define XF_PACKET_HOST 0
/* Headers the parser may read: Ethernet, two tags, PPPoE, IPv6, TCP with
 * the longest options. */
#define XF_TC_HDR_MAX (ETH_HLEN + 8 + 8 + 40 + 60)

/* Flags the loader clears where the kernel lacks them (fast_path.cpp):
 * BPF_F_IPV6 keeps skb->csum of CHECKSUM_COMPLETE IPv6 skbs right when the
 * pseudo-header changes (Linux 6.16); without it IPv6 address NAT is
 * refused in TC. */
const volatile __u64 xf_tc_l4_ipv6_flag = 1ULL << 7; /* BPF_F_IPV6 */

static __always_inline int xf_tc_pass(struct xf_counters *c, int reason)
{
	xf_count_slow(c, reason);
	return XF_TC_ACT_OK;
}

/* Checksum deltas through the kernel's helpers, which also keep skb->csum
 * (COMPLETE) and the pseudo-header seed (PARTIAL) right. Cannot fail: the
 * headers were made writable before the first write. */
static __always_inline void xf_tc_apply_csum(struct __sk_buff *skb, __u32 l3_off,
					     const struct xf_parsed *p,
					     const struct xf_csum_delta *d)
{
	__u64 l4_flags = d->udp ? BPF_F_MARK_MANGLED_0 : 0;
	__u32 check_off = l3_off + d->l4_check_off;

	if (p->family == XF_FAMILY_IPV4)
		bpf_l3_csum_replace(skb, l3_off + __builtin_offsetof(struct iphdr, check), 0, d->l3,
				    0);
	else
		l4_flags |= xf_tc_l4_ipv6_flag;
	if (d->pseudo)
		bpf_l4_csum_replace(skb, check_off, 0, d->pseudo, l4_flags | BPF_F_PSEUDO_HDR);
	if (d->ports)
		bpf_l4_csum_replace(skb, check_off, 0, d->ports, l4_flags);
}

/* The refusals only TC has, and the layer-2 plan: 0 or a slow reason. */
static __always_inline int xf_tc_refuse(struct __sk_buff *skb, const struct xf_frame *f,
					const struct xf_parsed *p, const struct xf_flow_action *a)
{
	__u32 seg_len = p->ip_len, mtu_len;
	__u32 slot = a->egress_ifindex % XF_IFACE_SLOTS;
	struct xf_iface *out;
	int reason;

	/* A bridge port marks frames for its bridge's MAC PACKET_OTHERHOST
	 * (eth_type_trans compares with the port's own): the bridge delivers
	 * them up, and the kernel routes them. */
	if (skb->pkt_type != XF_PACKET_HOST && !xf_for_us(f->data, f->end, skb->ifindex))
		return XF_SLOW_NOT_FOR_US;
	reason = xf_validate_ip(f, p);
	if (reason)
		return reason;
	if (bpf_ktime_get_ns() - xf_read_clock() > XF_CLOCK_STALE_NS)
		return XF_SLOW_STALE;
	/* A GSO skb leaves as segments of gso_size payload bytes each. */
	if (skb->gso_size)
		seg_len =
		    (p->family == XF_FAMILY_IPV4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) +
		    p->l4_hdr_len + skb->gso_size;
	reason = xf_refuse_hit(p, a, seg_len);
	if (reason)
		return reason;
	if (f->len != p->l2_len + p->ip_len)
		return XF_SLOW_TRAILER;
	if ((f->accel_tag && p->inband_tags) || xf_egress_l2_len(&a->encap) < p->l2_len ||
	    ((a->encap.flags & XF_ENCAP_PPPOE) && skb->gso_size) ||
	    (p->family == XF_FAMILY_IPV6 && !xf_tc_l4_ipv6_flag &&
	     (a->nat & (XF_NAT_SRC_ADDR | XF_NAT_DST_ADDR))))
		return XF_SLOW_TC_UNSUPPORTED;
	out = bpf_map_lookup_elem(&xf_ifaces, &slot);
	if (!out || out->ifindex != a->egress_ifindex)
		return XF_SLOW_NO_EGRESS;
	/* The egress device's MTU (the flow's was checked above). */
	mtu_len = skb->gso_size ? 0 : p->ip_len;
	reason = bpf_check_mtu(skb, a->egress_ifindex, &mtu_len, 0, 0);
	if (reason < 0)
		return XF_SLOW_NO_EGRESS;
	if (reason)
		return XF_SLOW_MTU;
	return 0;
}

SEC("tc")
int xdpflow_tc(struct __sk_buff *skb)
{
	struct xf_frame f = {};
	struct xf_flow_action act, *a = &act;
	struct xf_flow_value *flow;
	struct xf_csum_delta d;
	struct xf_parsed p;
	struct xf_counters *c;
	__u32 egress_l2, want, hdr_len;
	void *data, *end;
	int reason;

	c = xf_hook_counters(XF_HOOK_TC);
	if (!c)
		return XF_TC_ACT_OK;
	c->rx_packets++;
	/* The linear part may not hold the headers (pulling does not change
	 * the frame's bytes). */
	want = skb->len < XF_TC_HDR_MAX ? skb->len : XF_TC_HDR_MAX;
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end &&
	    bpf_skb_pull_data(skb, want))
		return xf_tc_pass(c, XF_SLOW_UNPARSED);
	f.data = (void *)(long)skb->data;
	f.end = (void *)(long)skb->data_end;
	f.len = skb->len;
	f.ifindex = skb->ifindex;
	if (skb->vlan_present) {
		f.accel_tag = 1;
		f.accel_vid = skb->vlan_tci;
		f.accel_8021ad = skb->vlan_proto == bpf_htons(XF_ETH_P_8021AD);
	}

	reason = xf_parse(&f, &p);
	if (reason)
		return xf_tc_pass(c, reason);
	flow = xf_lookup(&p);
	if (!flow)
		return xf_tc_pass(c, XF_SLOW_NO_FLOW);
	reason = xf_snapshot_action(flow, a);
	if (!reason)
		reason = xf_tc_refuse(skb, &f, &p, a);
	if (reason) {
		if (reason == XF_SLOW_NO_EGRESS)
			c->redirect_errors++;
		return xf_tc_pass(c, reason);
	}
	egress_l2 = xf_egress_l2_len(&a->encap);
	/* Headers writable (unshared from clones) before the first write, so
	 * the checksum helpers cannot fail later. Changes no byte. */
	hdr_len = p.l2_len + (p.family == XF_FAMILY_IPV4 ? 20 : 40) + p.l4_hdr_len;
	if (bpf_skb_pull_data(skb, hdr_len))
		return xf_tc_pass(c, XF_SLOW_ADJUST_FAILED);
	/* The first write: room for a longer layer-2 header. Changes nothing
	 * when it fails. */
	if (egress_l2 > p.l2_len && bpf_skb_change_head(skb, egress_l2 - p.l2_len, 0))
		return xf_tc_pass(c, XF_SLOW_ADJUST_FAILED);
	/* A tag the NIC stripped is the outer one; the egress header is written
	 * whole below. With no tag left in the frame, this only clears it. */
	if (f.accel_tag)
		bpf_skb_vlan_pop(skb);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (egress_l2 > XF_MAX_L2_LEN ||
	    xf_rewrite_l3l4(data + egress_l2, end, &p, a, &d, XF_HOOK_TC))
		return xf_tc_pass(c, XF_SLOW_UNPARSED); /* unreachable: pulled above */
	xf_tc_apply_csum(skb, egress_l2, &p, &d);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	xf_write_l2(data, end, &p, a);
	xf_count_hit(c, flow, f.len);
	return bpf_redirect(a->egress_ifindex, 0);
}

#endif /* XDPFLOW_BPF_TC_H */
