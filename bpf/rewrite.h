/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rewrites a parsed packet as its flow entry says: NAT of addresses and
 * ports, TTL / hop limit minus one, incremental checksum updates, then a new
 * layer-2 header (MACs, VLAN tags, PPPoE session) for the egress.
 */
#ifndef XDPFLOW_BPF_REWRITE_H
#define XDPFLOW_BPF_REWRITE_H

#include "parse.h"
#include "xdpflow/csum.h"

/* Longest layer-2 header we write: Ethernet + two tags + PPPoE/PPP. */
#define XF_MAX_L2_LEN (ETH_HLEN + 2 * 4 + 8)

static __always_inline __u32 xf_egress_l2_len(const struct xf_encap *e)
{
	return ETH_HLEN + 4 * (e->vlan_count > 2 ? 2 : e->vlan_count) +
	       ((e->flags & XF_ENCAP_PPPOE) ? 8 : 0);
}

/* Sums the change of 16 address bytes into acc and writes the new ones. */
static __always_inline __u32 xf_nat_addr(__u32 acc, __u32 *field, const __u32 *to, int words)
{
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i >= words)
			break;
		acc = xf_csum_acc32(acc, field[i], to[i]);
		field[i] = to[i];
	}
	return acc;
}

/*
 * L3 and L4 rewrite in place, on the packet as it is after xf_resize_l2():
 * the IP header starts at the egress L2 length. Returns 0, or -1 if the
 * headers are not where parsing found them (cannot happen: parse checked).
 * The L4 checksum covers the pseudo-header, so address changes go into both
 * sums; ports only into the L4 one.
 */
static __always_inline int xf_rewrite_l3l4(struct xdp_md *ctx, const struct xf_parsed *p,
					   const struct xf_flow_action *a)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l2 = xf_egress_l2_len(&a->encap);
	__u32 l3_acc = 0, l4_acc = 0;
	__be16 *ports; /* source and destination port lead TCP and UDP */
	__u16 *l4_check;
	void *l3, *l4;

	if (l2 > XF_MAX_L2_LEN)
		return -1;
	l3 = data + l2;
	if (p->family == XF_FAMILY_IPV4) {
		struct iphdr *iph = l3;
		__u16 old_word, new_word;

		l4 = iph + 1;
		if (l4 + sizeof(struct udphdr) > end)
			return -1;
		if (a->nat & XF_NAT_SRC_ADDR)
			l3_acc = xf_nat_addr(l3_acc, &iph->saddr, a->new_src, 1);
		if (a->nat & XF_NAT_DST_ADDR)
			l3_acc = xf_nat_addr(l3_acc, &iph->daddr, a->new_dst, 1);
		l4_acc = l3_acc;
		/* TTL and protocol as one word, decremented in a register: a byte
		 * store followed by a word load of the same bytes stalls store
		 * forwarding (seen in perf on the fast path). TTL > 1 here, so
		 * no borrow reaches the protocol byte. */
		old_word = *(__u16 *)&iph->ttl;
		new_word = old_word - bpf_htons(0x0100);
		*(__u16 *)&iph->ttl = new_word;
		l3_acc = xf_csum_acc16(l3_acc, old_word, new_word);
		iph->check = xf_csum_apply(iph->check, l3_acc);
	} else {
		struct ipv6hdr *ip6h = l3;

		l4 = ip6h + 1;
		if (l4 + sizeof(struct udphdr) > end)
			return -1;
		if (a->nat & XF_NAT_SRC_ADDR)
			l4_acc = xf_nat_addr(l4_acc, (__u32 *)&ip6h->saddr, a->new_src, 4);
		if (a->nat & XF_NAT_DST_ADDR)
			l4_acc = xf_nat_addr(l4_acc, (__u32 *)&ip6h->daddr, a->new_dst, 4);
		ip6h->hop_limit--;
	}

	ports = l4;
	if (a->nat & XF_NAT_SRC_PORT) {
		l4_acc = xf_csum_acc16(l4_acc, ports[0], a->new_sport);
		ports[0] = a->new_sport;
	}
	if (a->nat & XF_NAT_DST_PORT) {
		l4_acc = xf_csum_acc16(l4_acc, ports[1], a->new_dport);
		ports[1] = a->new_dport;
	}
	if (p->head.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		/* Parsing put the whole TCP header inside the frame, so this is for
		 * the verifier only. The check before any write is the 8 bytes every
		 * L4 header has: a UDP datagram with less than 12 bytes of payload is
		 * shorter than a TCP header (found by tests/fuzz). */
		if ((void *)(th + 1) > end)
			return -1;
		l4_check = &th->check;
		*l4_check = xf_csum_apply(*l4_check, l4_acc);
	} else {
		l4_check = &((struct udphdr *)l4)->check;
		/* UDP without checksum stays without, as nf_nat leaves it: on
		 * IPv4 it is legal, on IPv6 tunnels may use it (RFC 6935), and an
		 * incremental update of a missing sum would only be garbage. A
		 * computed sum of 0 is sent as 0xffff. */
		if (*l4_check)
			*l4_check = xf_csum_apply_udp(*l4_check, l4_acc);
	}
	return 0;
}

/*
 * Moves the head so that the egress layer-2 header fits, before anything is
 * modified: if the move fails, the packet is still intact for the kernel.
 */
static __always_inline int xf_resize_l2(struct xdp_md *ctx, const struct xf_parsed *p,
					const struct xf_encap *e)
{
	int delta = (int)p->l2_len - (int)xf_egress_l2_len(e);

	return delta ? bpf_xdp_adjust_head(ctx, delta) : 0;
}

/* Writes the egress layer-2 header in front of the IP header. */
static __always_inline void xf_write_l2(struct xdp_md *ctx, const struct xf_parsed *p,
					const struct xf_flow_action *a)
{
	const struct xf_encap *e = &a->encap;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *pos;

	if (data + XF_MAX_L2_LEN > end) /* an IP and L4 header follow: true */
		return;

	__builtin_memcpy(data, a->dst_mac, ETH_ALEN);
	__builtin_memcpy(data + ETH_ALEN, a->src_mac, ETH_ALEN);
	pos = data + 2 * ETH_ALEN;
	if (e->vlan_count >= 1) {
		struct xf_vlan_hdr *vh = (void *)(pos + 2);

		*(__be16 *)pos = bpf_htons((e->flags & XF_ENCAP_OUTER_8021AD) ? XF_ETH_P_8021AD
									      : XF_ETH_P_8021Q);
		vh->tci = bpf_htons(e->vlan_id[0] & 0x0fff);
		pos += 4;
		if (e->vlan_count >= 2) {
			*(__be16 *)pos = bpf_htons(XF_ETH_P_8021Q);
			vh = (void *)(pos + 2);
			vh->tci = bpf_htons(e->vlan_id[1] & 0x0fff);
			pos += 4;
		}
	}
	if (e->flags & XF_ENCAP_PPPOE) {
		struct xf_pppoe_hdr *ph = (void *)(pos + 2);

		*(__be16 *)pos = bpf_htons(XF_ETH_P_PPPOE_SESS);
		ph->ver_type = 0x11;
		ph->code = 0;
		ph->sid = bpf_htons(e->pppoe_sid);
		ph->length = bpf_htons(p->ip_len + 2);
		ph->ppp_proto = bpf_htons(p->family == XF_FAMILY_IPV4 ? XF_PPP_IPV4 : XF_PPP_IPV6);
	} else {
		*(__be16 *)pos = bpf_htons(p->family == XF_FAMILY_IPV4 ? ETH_P_IP : ETH_P_IPV6);
	}
}

#endif /* XDPFLOW_BPF_REWRITE_H */
