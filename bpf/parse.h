/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounds-checked header parsing for the flow cache: Ethernet, up to two VLAN
 * tags, a PPPoE session, IPv4 without options or fragmentation, IPv6 without
 * extension headers, then TCP or UDP. Anything else is reported with the
 * reason the packet must take the kernel path.
 */
#ifndef XDPFLOW_BPF_PARSE_H
#define XDPFLOW_BPF_PARSE_H

/* The UAPI headers first: libbpf's helper headers use their types. */
#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "xdpflow/flow.h"

#define XF_ETH_P_8021Q 0x8100
#define XF_ETH_P_8021AD 0x88a8
#define XF_ETH_P_PPPOE_SESS 0x8864
#define XF_PPP_IPV4 0x0021
#define XF_PPP_IPV6 0x0057
#define XF_IP_MF_OFFSET 0x3fff /* More Fragments flag + fragment offset */

/* uapi/linux/if_vlan.h has no struct for the tag itself. */
struct xf_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* PPPoE session header (RFC 2516) followed by the PPP protocol field. */
struct xf_pppoe_hdr {
	__u8 ver_type; /* 0x11 */
	__u8 code;     /* 0 for session data */
	__be16 sid;
	__be16 length; /* PPP payload length, protocol field included */
	__be16 ppp_proto;
};

/* What the parser found: the lookup key of the packet's family and the few
 * header fields the decisions need. No packet pointers: they would not
 * survive a head move. */
struct xf_parsed {
	union {
		struct xf_key_head head; /* common to both keys */
		struct xf_flow_key4 key4;
		struct xf_flow_key6 key6;
		__u64 key_words[6]; /* how xf_write_key() stores them */
	};
	__u32 l2_len;	  /* bytes before the IP header */
	__u32 ip_len;	  /* IP packet length from its header */
	__u8 family;	  /* enum xf_family */
	__u8 ttl;	  /* TTL or hop limit */
	__u8 tcp_fin_rst; /* TCP with FIN or RST set */
	__u8 pad;
} __attribute__((aligned(8)));

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xf_write_key() composes the key words for a little-endian host"
#endif

/*
 * Writes the whole key in 8-byte words composed in registers. The kernel
 * hashes and compares it with word loads right after: loads that span
 * several narrower stores cannot be forwarded from the store buffer and
 * stall until those reach the cache (perf: htab_map_hash twice as slow when
 * the parser wrote the key field by field). Addresses and ports are the
 * packet's bytes as loaded, so they stay in network order.
 */
static __always_inline void xf_write_key(struct xf_parsed *p, __u64 head_lo, __u32 head_hi,
					 const __u32 *src, const __u32 *dst, __u32 ports)
{
	__u64 *w = p->key_words;

	w[0] = head_lo;
	w[1] = head_hi | (__u64)src[0] << 32;
	if (p->family == XF_FAMILY_IPV4) {
		w[2] = dst[0] | (__u64)ports << 32;
		return;
	}
	w[2] = src[1] | (__u64)src[2] << 32;
	w[3] = src[3] | (__u64)dst[0] << 32;
	w[4] = dst[1] | (__u64)dst[2] << 32;
	w[5] = dst[3] | (__u64)ports << 32;
}

/* Returns XF_SLOW_MAX when the packet is a candidate for the fast path,
 * otherwise the reason it must go to the kernel. */
static __always_inline int xf_parse(struct xdp_md *ctx, struct xf_parsed *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *pos;
	__u32 ppp_len = 0; /* PPPoE length field: PPP protocol + payload */
	__u8 vlan_count = 0, encap_flags = 0;
	__u16 vlan_id[2] = {}, pppoe_sid = 0;
	__u32 src[4], dst[4], ports;
	__u16 proto;
	__u32 l4_len;
	__u8 l4proto;

	p->tcp_fin_rst = 0;
	if ((void *)(eth + 1) > end)
		return XF_SLOW_UNPARSED;
	/* Group-addressed frames are never forwarded by the kernel (ip_forward
	 * drops pkt_type != PACKET_HOST), whatever IP packet they carry. */
	if (eth->h_dest[0] & 1)
		return XF_SLOW_NOT_UNICAST;
	proto = bpf_ntohs(eth->h_proto);
	pos = eth + 1;

#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct xf_vlan_hdr *vh = pos;

		if (proto != XF_ETH_P_8021Q && proto != XF_ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > end)
			return XF_SLOW_UNPARSED;
		if (i == 0 && proto == XF_ETH_P_8021AD)
			encap_flags |= XF_ENCAP_OUTER_8021AD;
		vlan_id[i] = bpf_ntohs(vh->tci) & 0x0fff;
		vlan_count = i + 1;
		proto = bpf_ntohs(vh->encapsulated_proto);
		pos = vh + 1;
	}
	if (proto == XF_ETH_P_8021Q || proto == XF_ETH_P_8021AD)
		return XF_SLOW_UNPARSED; /* a third tag: not ours */

	if (proto == XF_ETH_P_PPPOE_SESS) {
		struct xf_pppoe_hdr *ph = pos;

		if ((void *)(ph + 1) > end)
			return XF_SLOW_UNPARSED;
		if (ph->ver_type != 0x11 || ph->code != 0)
			return XF_SLOW_UNPARSED;
		encap_flags |= XF_ENCAP_PPPOE;
		pppoe_sid = bpf_ntohs(ph->sid);
		ppp_len = bpf_ntohs(ph->length);
		if (ph->ppp_proto == bpf_htons(XF_PPP_IPV4))
			proto = ETH_P_IP;
		else if (ph->ppp_proto == bpf_htons(XF_PPP_IPV6))
			proto = ETH_P_IPV6;
		else
			return XF_SLOW_NOT_IP; /* LCP, IPCP, ...: the PPP daemon's */
		pos = ph + 1;
	}
	p->l2_len = pos - data;

	if (proto == ETH_P_IP) {
		struct iphdr *iph = pos;

		if ((void *)(iph + 1) > end || iph->version != 4)
			return XF_SLOW_UNPARSED;
		if (iph->ihl != 5)
			return iph->ihl < 5 ? XF_SLOW_UNPARSED : XF_SLOW_IP_OPTIONS;
		if (iph->frag_off & bpf_htons(XF_IP_MF_OFFSET))
			return XF_SLOW_FRAGMENT;
		p->ip_len = bpf_ntohs(iph->tot_len);
		if (p->ip_len < sizeof(*iph) || pos + p->ip_len > end)
			return XF_SLOW_UNPARSED;
		l4proto = iph->protocol;
		p->family = XF_FAMILY_IPV4;
		src[0] = iph->saddr;
		dst[0] = iph->daddr;
		p->ttl = iph->ttl;
		pos = iph + 1;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6h = pos;

		if ((void *)(ip6h + 1) > end || ip6h->version != 6)
			return XF_SLOW_UNPARSED;
		p->ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
		if (pos + p->ip_len > end)
			return XF_SLOW_UNPARSED;
		l4proto = ip6h->nexthdr;
		switch (l4proto) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_FRAGMENT:
		case IPPROTO_ESP:
		case IPPROTO_AH:
		case IPPROTO_DSTOPTS:
		case 135: /* Mobility */
		case 139: /* HIP */
		case 140: /* Shim6 */
		case 253: /* experimentation (RFC 3692): also extension headers */
		case 254:
			return XF_SLOW_IPV6_EXT;
		}
		p->family = XF_FAMILY_IPV6;
		__builtin_memcpy(src, &ip6h->saddr, 16);
		__builtin_memcpy(dst, &ip6h->daddr, 16);
		p->ttl = ip6h->hop_limit;
		pos = ip6h + 1;
	} else {
		return XF_SLOW_NOT_IP;
	}
	/* The kernel trims a PPPoE frame to its length field and drops it when
	 * the field points past the frame; an IP packet cut short by the trim is
	 * dropped by IP. Such frames are not ours to forward. */
	if ((encap_flags & XF_ENCAP_PPPOE) &&
	    (ppp_len < p->ip_len + 2 || p->l2_len - 2 + ppp_len > (__u32)(end - data)))
		return XF_SLOW_UNPARSED;

	/* Source and destination port lead both TCP and UDP: one load. */
	if (l4proto == IPPROTO_TCP) {
		struct tcphdr *th = pos;

		if ((void *)(th + 1) > end || th->doff < 5)
			return XF_SLOW_UNPARSED;
		l4_len = th->doff * 4;
		ports = *(__u32 *)&th->source;
		p->tcp_fin_rst = th->fin || th->rst;
	} else if (l4proto == IPPROTO_UDP) {
		struct udphdr *uh = pos;

		if ((void *)(uh + 1) > end)
			return XF_SLOW_UNPARSED;
		l4_len = sizeof(*uh);
		ports = *(__u32 *)&uh->source;
	} else {
		return XF_SLOW_NOT_TCP_UDP;
	}
	/* The whole L4 header must lie inside the IP packet (which lies inside
	 * the frame, checked above). */
	if ((__u32)(pos - data) + l4_len > p->l2_len + p->ip_len)
		return XF_SLOW_UNPARSED;
	/* xf_key_head, as two words: ifindex and VLAN IDs, then the PPPoE
	 * session, protocol and encapsulation bits. */
	xf_write_key(p, ctx->ingress_ifindex | (__u64)vlan_id[0] << 32 | (__u64)vlan_id[1] << 48,
		     pppoe_sid | (__u32)l4proto << 16 |
			 (__u32)XF_KEY_ENCAP(vlan_count, encap_flags) << 24,
		     src, dst, ports);
	return XF_SLOW_MAX;
}

#endif /* XDPFLOW_BPF_PARSE_H */
