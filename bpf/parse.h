/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing for the flow cache, one small parser per layer in the style
 * of xdp-tools' parsing_helpers.h: each takes a header cursor, moves it past
 * its header and returns the next protocol, or a negative enum
 * xf_slow_reason saying why the packet must take the kernel path. Checked
 * here: everything ip_rcv_core / ipv6_rcv drop or treat specially, so the
 * fast path never forwards what the kernel would not (see l3.h).
 *
 * Hook independent: the XDP and TC programs fill a struct xf_frame (bounds,
 * frame length, ingress, a VLAN tag the NIC already stripped) and call
 * xf_parse(). Byte-order clean: fields are converted with bpf_ntohs() etc.,
 * and the key words are composed in memory order for either host order.
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

/* The frame as a hook hands it to the parser. */
struct xf_frame {
	void *data;	 /* first byte of the Ethernet header */
	void *end;	 /* end of the directly readable bytes */
	__u32 len;	 /* whole frame length (an skb may be longer than
			  * its linear part) */
	__u32 ifindex;	 /* ingress interface */
	__u16 accel_vid; /* a tag the NIC stripped (skb->vlan_tci), with */
	__u8 accel_tag;	 /* accel_tag = 1; the key treats it as the outer tag */
	__u8 accel_8021ad;
};

/* The header cursor: where the next header starts. */
struct xf_cursor {
	void *pos;
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
	__u32 l2_len;	  /* in-band bytes before the IP header */
	__u32 ip_len;	  /* IP packet length from its header */
	__u16 l4_hdr_len; /* TCP/UDP header length */
	__u8 family;	  /* enum xf_family */
	__u8 ttl;	  /* TTL or hop limit */
	__u8 tcp_fin_rst; /* TCP with FIN or RST set */
	__u8 inband_tags; /* VLAN tags in the frame's bytes */
	__u8 pad[2];
} __attribute__((aligned(8)));

/* Layer-2 result: the encapsulation fields of the key. */
struct xf_l2 {
	__u16 vlan_id[2];
	__u16 pppoe_sid;
	__u16 ppp_len; /* PPPoE length field: PPP protocol + payload */
	__u8 vlan_count;
	__u8 flags; /* enum xf_encap_flags */
};

#define XF_FAIL(reason) (-(int)(reason))

/*
 * Ethernet, up to two VLAN tags (counting one the NIC stripped) and a PPPoE
 * session. Returns the host-order ethertype of the layer-3 header (ETH_P_IP,
 * ETH_P_IPV6 or anything else), or a negative slow reason.
 */
static __always_inline int xf_parse_l2(const struct xf_frame *f, struct xf_cursor *c,
				       struct xf_l2 *l2)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > f->end)
		return XF_FAIL(XF_SLOW_UNPARSED);
	/* Group-addressed frames are never forwarded by the kernel (ip_forward
	 * drops pkt_type != PACKET_HOST), whatever IP packet they carry. */
	if (eth->h_dest[0] & 1)
		return XF_FAIL(XF_SLOW_NOT_UNICAST);
	proto = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;
	if (f->accel_tag) {
		l2->vlan_id[0] = f->accel_vid & 0x0fff;
		l2->vlan_count = 1;
		if (f->accel_8021ad)
			l2->flags |= XF_ENCAP_OUTER_8021AD;
	}

#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct xf_vlan_hdr *vh = c->pos;

		if (proto != XF_ETH_P_8021Q && proto != XF_ETH_P_8021AD)
			break;
		if (l2->vlan_count >= 2)
			return XF_FAIL(XF_SLOW_UNPARSED); /* a third tag: not ours */
		if ((void *)(vh + 1) > f->end)
			return XF_FAIL(XF_SLOW_UNPARSED);
		if (l2->vlan_count == 0 && proto == XF_ETH_P_8021AD)
			l2->flags |= XF_ENCAP_OUTER_8021AD;
		/* Constant indexes: the verifier refuses a variable offset
		 * into the stack. */
		if (l2->vlan_count == 0)
			l2->vlan_id[0] = bpf_ntohs(vh->tci) & 0x0fff;
		else
			l2->vlan_id[1] = bpf_ntohs(vh->tci) & 0x0fff;
		l2->vlan_count++;
		proto = bpf_ntohs(vh->encapsulated_proto);
		c->pos = vh + 1;
	}
	if (proto == XF_ETH_P_8021Q || proto == XF_ETH_P_8021AD)
		return XF_FAIL(XF_SLOW_UNPARSED);

	if (proto == XF_ETH_P_PPPOE_SESS) {
		struct xf_pppoe_hdr *ph = c->pos;

		if ((void *)(ph + 1) > f->end)
			return XF_FAIL(XF_SLOW_UNPARSED);
		if (ph->ver_type != 0x11 || ph->code != 0)
			return XF_FAIL(XF_SLOW_UNPARSED);
		l2->flags |= XF_ENCAP_PPPOE;
		l2->pppoe_sid = bpf_ntohs(ph->sid);
		l2->ppp_len = bpf_ntohs(ph->length);
		c->pos = ph + 1;
		if (ph->ppp_proto == bpf_htons(XF_PPP_IPV4))
			return ETH_P_IP;
		if (ph->ppp_proto == bpf_htons(XF_PPP_IPV6))
			return ETH_P_IPV6;
		return XF_FAIL(XF_SLOW_NOT_IP); /* LCP, IPCP, ...: the PPP daemon's */
	}
	return proto;
}

#include "l3.h"

/*
 * TCP or UDP header at the cursor, which must lie inside the IP packet
 * (ip_end) and the readable bytes. Stores the ports word (network order,
 * as loaded) and returns the header length, or a negative slow reason.
 */
static __always_inline int xf_parse_l4(const struct xf_frame *f, struct xf_cursor *c, __u32 ip_end,
				       __u8 l4proto, struct xf_parsed *p, __u32 *ports)
{
	__u32 off = c->pos - f->data; /* offsets: the IP packet may end past
				       * the readable bytes of an skb */

	if (l4proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;
		__u32 len;

		if (off + sizeof(*th) > ip_end)
			return XF_FAIL(XF_SLOW_L4_TRUNCATED);
		if ((void *)(th + 1) > f->end)
			return XF_FAIL(XF_SLOW_UNPARSED);
		if (th->doff < 5)
			return XF_FAIL(XF_SLOW_TCP_DOFF);
		len = th->doff * 4;
		if (off + len > ip_end)
			return XF_FAIL(XF_SLOW_L4_TRUNCATED);
		*ports = *(__u32 *)&th->source;
		p->tcp_fin_rst = th->fin || th->rst;
		return len;
	}
	if (l4proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;

		if (off + sizeof(*uh) > ip_end)
			return XF_FAIL(XF_SLOW_L4_TRUNCATED);
		if ((void *)(uh + 1) > f->end)
			return XF_FAIL(XF_SLOW_UNPARSED);
		*ports = *(__u32 *)&uh->source;
		return sizeof(*uh);
	}
	return XF_FAIL(XF_SLOW_NOT_TCP_UDP);
}

/* Two values side by side in memory as one wider value, for either host
 * byte order: `first` at the lower address. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XF_MEM_PAIR(type, first, second, bits) ((type)(first) | (type)(second) << (bits))
#else
#define XF_MEM_PAIR(type, first, second, bits) ((type)(first) << (bits) | (type)(second))
#endif

/*
 * Writes the whole key in 8-byte words composed in registers. The kernel
 * hashes and compares it with word loads right after: loads that span
 * several narrower stores cannot be forwarded from the store buffer and
 * stall until those reach the cache (perf: htab_map_hash twice as slow when
 * the parser wrote the key field by field). Addresses and ports are the
 * packet's bytes as loaded, so they stay in network order.
 */
static __always_inline void xf_write_key(struct xf_parsed *p, __u32 ifindex, const struct xf_l2 *l2,
					 __u8 l4proto, const __u32 *src, const __u32 *dst,
					 __u32 ports)
{
	__u64 *w = p->key_words;
	__u32 vids = XF_MEM_PAIR(__u32, l2->vlan_id[0], l2->vlan_id[1], 16);
	__u16 proto_encap = XF_MEM_PAIR(__u16, l4proto, XF_KEY_ENCAP(l2->vlan_count, l2->flags), 8);
	__u32 tail = XF_MEM_PAIR(__u32, l2->pppoe_sid, proto_encap, 16);

	w[0] = XF_MEM_PAIR(__u64, ifindex, vids, 32);
	w[1] = XF_MEM_PAIR(__u64, tail, src[0], 32);
	if (p->family == XF_FAMILY_IPV4) {
		w[2] = XF_MEM_PAIR(__u64, dst[0], ports, 32);
		return;
	}
	w[2] = XF_MEM_PAIR(__u64, src[1], src[2], 32);
	w[3] = XF_MEM_PAIR(__u64, src[3], dst[0], 32);
	w[4] = XF_MEM_PAIR(__u64, dst[1], dst[2], 32);
	w[5] = XF_MEM_PAIR(__u64, dst[3], ports, 32);
}

/* Returns 0 when the packet is a candidate for the fast path (p filled),
 * otherwise the enum xf_slow_reason it must go to the kernel for. */
static __always_inline int xf_parse(const struct xf_frame *f, struct xf_parsed *p)
{
	struct xf_cursor c = {.pos = f->data};
	struct xf_l2 l2 = {};
	__u32 src[4], dst[4], ports = 0;
	int proto, l4;

	p->tcp_fin_rst = 0;
	proto = xf_parse_l2(f, &c, &l2);
	if (proto < 0)
		return -proto;
	p->l2_len = c.pos - f->data;
	p->inband_tags = l2.vlan_count - (f->accel_tag ? 1 : 0);
	if (proto == ETH_P_IP)
		proto = xf_parse_ipv4(f, &c, p, src, dst);
	else if (proto == ETH_P_IPV6)
		proto = xf_parse_ipv6(f, &c, p, src, dst);
	else
		return XF_SLOW_NOT_IP;
	if (proto < 0)
		return -proto;
	/* The kernel trims a PPPoE frame to its length field and drops it when
	 * the field points past the frame; an IP packet cut short by the trim is
	 * dropped by IP. Such frames are not ours to forward. */
	if ((l2.flags & XF_ENCAP_PPPOE) &&
	    (l2.ppp_len < p->ip_len + 2 || p->l2_len - 2 + l2.ppp_len > f->len))
		return XF_SLOW_UNPARSED;
	l4 = xf_parse_l4(f, &c, p->l2_len + p->ip_len, proto, p, &ports);
	if (l4 < 0)
		return -l4;
	p->l4_hdr_len = l4;
	xf_write_key(p, f->ifindex, &l2, proto, src, dst, ports);
	return 0;
}

#endif /* XDPFLOW_BPF_PARSE_H */
