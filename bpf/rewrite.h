/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rewrites a parsed packet as its flow entry says, once for both hooks: NAT
 * of addresses and ports, TTL / hop limit minus one, then a new layer-2
 * header (MACs, VLAN tags, PPPoE session) for the egress. The checksum
 * changes are returned as deltas; each hook applies them its own way (XDP:
 * incremental arithmetic on raw frames; TC: the kernel's checksum helpers,
 * which also keep CHECKSUM_PARTIAL / COMPLETE skbs right).
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

/* Checksum changes of a rewrite, as sums of 16-bit word changes (csum.h). */
struct xf_csum_delta {
	__u32 l3;	    /* IPv4 header: addresses and TTL */
	__u32 pseudo;	    /* L4 pseudo-header: addresses */
	__u32 ports;	    /* L4 header itself: ports */
	__u16 l4_check_off; /* offset of the L4 checksum from the IP header */
	__u8 udp;	    /* UDP: a zero checksum means "none" */
	__u8 pad;
};

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
 * NAT and TTL in place on the IP packet at l3. The checksum changes are
 * applied here for XDP (hook XF_HOOK_XDP, a constant: the other branch
 * compiles away), where the frame's checksums are complete ones, and
 * returned in d for TC, which applies them through the kernel's helpers.
 * Returns -1 before writing anything if the headers are not readable there
 * (cannot happen after a parse: for the verifier).
 */
static __always_inline int xf_rewrite_l3l4(void *l3, void *end, const struct xf_parsed *p,
					   const struct xf_flow_action *a, struct xf_csum_delta *d,
					   const int hook)
{
	__u32 l4_off = p->family == XF_FAMILY_IPV4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__be16 *ports; /* source and destination port lead TCP and UDP */
	__u16 *check;
	void *l4;

	l4 = l3 + l4_off;
	d->l3 = d->pseudo = d->ports = 0;
	d->udp = p->head.proto == IPPROTO_UDP;
	check = l4 + (d->udp ? __builtin_offsetof(struct udphdr, check)
			     : __builtin_offsetof(struct tcphdr, check));
	d->l4_check_off = (void *)check - l3;
	/* Every byte written below, before the first write: the ports and the
	 * checksum field (a UDP datagram with less than 12 bytes of payload is
	 * shorter than a TCP header, tests/fuzz). */
	if (l4 + sizeof(struct udphdr) > end || (void *)(check + 1) > end)
		return -1;
	if (p->family == XF_FAMILY_IPV4) {
		struct iphdr *iph = l3;
		__u16 old_word, new_word;

		if ((void *)(iph + 1) > end) /* implied by the check above */
			return -1;
		if (a->nat & XF_NAT_SRC_ADDR)
			d->pseudo = xf_nat_addr(d->pseudo, &iph->saddr, a->new_src, 1);
		if (a->nat & XF_NAT_DST_ADDR)
			d->pseudo = xf_nat_addr(d->pseudo, &iph->daddr, a->new_dst, 1);
		/* TTL and protocol as one word, decremented in a register: a byte
		 * store followed by a word load of the same bytes stalls store
		 * forwarding (seen in perf on the fast path). TTL > 1 here, so
		 * no borrow reaches the protocol byte. */
		old_word = *(__u16 *)&iph->ttl;
		new_word = old_word - bpf_htons(0x0100); /* either byte order */
		*(__u16 *)&iph->ttl = new_word;
		d->l3 = xf_csum_acc16(d->pseudo, old_word, new_word);
		if (hook == XF_HOOK_XDP)
			iph->check = xf_csum_apply(iph->check, d->l3);
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > end) /* implied by the check above */
			return -1;
		if (a->nat & XF_NAT_SRC_ADDR)
			d->pseudo = xf_nat_addr(d->pseudo, (__u32 *)&ip6h->saddr, a->new_src, 4);
		if (a->nat & XF_NAT_DST_ADDR)
			d->pseudo = xf_nat_addr(d->pseudo, (__u32 *)&ip6h->daddr, a->new_dst, 4);
		ip6h->hop_limit--;
	}
	ports = l4;
	if (a->nat & XF_NAT_SRC_PORT) {
		d->ports = xf_csum_acc16(d->ports, ports[0], a->new_sport);
		ports[0] = a->new_sport;
	}
	if (a->nat & XF_NAT_DST_PORT) {
		d->ports = xf_csum_acc16(d->ports, ports[1], a->new_dport);
		ports[1] = a->new_dport;
	}
	if (hook == XF_HOOK_XDP) {
		/* UDP without checksum stays without, as nf_nat leaves it: on
		 * IPv4 it is legal, on IPv6 tunnels may use it (RFC 6935), and an
		 * incremental update of a missing sum would only be garbage. A
		 * computed sum of 0 is sent as 0xffff. */
		if (!d->udp)
			*check = xf_csum_apply(*check, d->pseudo + d->ports);
		else if (*check)
			*check = xf_csum_apply_udp(*check, d->pseudo + d->ports);
	}
	return 0;
}

/* Writes the egress layer-2 header, which ends where the IP header starts
 * (data + xf_egress_l2_len). Returns -1, having written nothing, if the
 * bytes are not there (cannot happen: an IP and an L4 header follow). */
static __always_inline int xf_write_l2(void *data, void *end, const struct xf_parsed *p,
				       const struct xf_flow_action *a)
{
	const struct xf_encap *e = &a->encap;
	__u8 *pos;

	if (data + XF_MAX_L2_LEN > end)
		return -1;

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
	return 0;
}

#endif /* XDPFLOW_BPF_REWRITE_H */
