/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPv4 and IPv6 parsers (included by parse.h). Each refuses, with its
 * own counted reason, what the kernel's receive path drops or treats
 * specially before forwarding, in the order the kernel checks:
 *
 *   ip_rcv_core:   version / IHL < 5, header checksum, total length against
 *                  the frame and against the header;
 *   ip_route_input_slow (martian checks): a source that is 0/8, loopback,
 *                  multicast or class E / limited broadcast, a destination
 *                  that is 0/8, loopback, multicast or class E;
 *   ipv6_rcv:      version, payload length against the frame, multicast or
 *                  loopback source, v4-mapped addresses (RFC 4291 2.5.5.2);
 *   ip6_forward:   unspecified or link-local source, link-local or
 *                  multicast destination (never forwarded).
 *
 * Options, fragments and extension headers go to the kernel as before.
 *
 * The header checksum and the address checks run on hits only
 * (xf_validate_ip, after the lookup): a miss goes to the kernel anyway,
 * which applies them itself, and checking every miss would make the miss
 * path dearer (`xfbench cost`). A frame that fails them never hits.
 */
#ifndef XDPFLOW_BPF_L3_H
#define XDPFLOW_BPF_L3_H

#define XF_IP_MF_OFFSET 0x3fff /* More Fragments flag + fragment offset */

/* The IPv4 header (20 bytes, no options) sums to 0xffff when its checksum
 * is right; the one's complement sum is the same in either byte order. */
static __always_inline int xf_ipv4_csum_ok(const struct iphdr *iph)
{
	const __u32 *w = (const __u32 *)iph;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* 0/8, 127/8, 224/4 (multicast) and 240/4 (class E, 255.255.255.255):
 * martian as a source and as a destination of forwarded traffic. */
static __always_inline int xf_ipv4_martian(__be32 addr)
{
	__u32 first = bpf_ntohl(addr) >> 24;

	return first == 0 || first == 127 || first >= 224;
}

static __always_inline int xf_parse_ipv4(const struct xf_frame *f, struct xf_cursor *c,
					 struct xf_parsed *p, __u32 *src, __u32 *dst)
{
	struct iphdr *iph = c->pos;
	__u32 tot_len;

	if ((void *)(iph + 1) > f->end)
		return XF_FAIL(XF_SLOW_UNPARSED);
	if (iph->version != 4 || iph->ihl < 5)
		return XF_FAIL(XF_SLOW_IP_HEADER);
	if (iph->ihl != 5)
		return XF_FAIL(XF_SLOW_IP_OPTIONS);
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < sizeof(*iph) || (c->pos - f->data) + tot_len > f->len)
		return XF_FAIL(XF_SLOW_IP_LENGTH);
	if (iph->frag_off & bpf_htons(XF_IP_MF_OFFSET))
		return XF_FAIL(XF_SLOW_FRAGMENT);
	p->ip_len = tot_len;
	p->family = XF_FAMILY_IPV4;
	p->ttl = iph->ttl;
	src[0] = iph->saddr;
	dst[0] = iph->daddr;
	c->pos = iph + 1;
	return iph->protocol;
}

/* Multicast, link-local (fe80::/10), unspecified, loopback and v4-mapped
 * (::ffff:0:0/96): never forwarded from or to. */
static __always_inline int xf_ipv6_martian(const __u32 *a)
{
	__u32 w0 = bpf_ntohl(a[0]);

	if ((w0 >> 24) == 0xff || (w0 & 0xffc00000) == 0xfe800000)
		return 1;
	if (w0 != 0 || a[1] != 0)
		return 0;
	if (a[2] == bpf_htonl(0xffff))
		return 1;
	return a[2] == 0 && (a[3] == 0 || a[3] == bpf_htonl(1));
}

static __always_inline int xf_ipv6_ext(__u8 nexthdr)
{
	switch (nexthdr) {
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
		return 1;
	}
	return 0;
}

static __always_inline int xf_parse_ipv6(const struct xf_frame *f, struct xf_cursor *c,
					 struct xf_parsed *p, __u32 *src, __u32 *dst)
{
	struct ipv6hdr *ip6h = c->pos;
	__u32 ip_len;

	if ((void *)(ip6h + 1) > f->end)
		return XF_FAIL(XF_SLOW_UNPARSED);
	if (ip6h->version != 6)
		return XF_FAIL(XF_SLOW_IP_HEADER);
	ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	if ((c->pos - f->data) + ip_len > f->len)
		return XF_FAIL(XF_SLOW_IP_LENGTH);
	if (xf_ipv6_ext(ip6h->nexthdr))
		return XF_FAIL(XF_SLOW_IPV6_EXT);
	__builtin_memcpy(src, &ip6h->saddr, 16);
	__builtin_memcpy(dst, &ip6h->daddr, 16);
	p->ip_len = ip_len;
	p->family = XF_FAMILY_IPV6;
	p->ttl = ip6h->hop_limit;
	c->pos = ip6h + 1;
	return ip6h->nexthdr;
}

/* The checks of a hit's IP header that the parser leaves out (see top):
 * 0 or the slow reason. */
static __always_inline int xf_validate_ip(const struct xf_frame *f, const struct xf_parsed *p)
{
	__u32 l2_len = p->l2_len;

	if (p->family == XF_FAMILY_IPV4) {
		struct iphdr *iph;

		/* Parsed already: for the verifier, which needs the offset
		 * bounded (Ethernet, two tags, PPPoE: at most 30 bytes). */
		if (l2_len > 32)
			return XF_SLOW_UNPARSED;
		iph = f->data + l2_len;
		if ((void *)(iph + 1) > f->end)
			return XF_SLOW_UNPARSED;
		if (!xf_ipv4_csum_ok(iph))
			return XF_SLOW_IP_CSUM;
		if (xf_ipv4_martian(iph->saddr) || xf_ipv4_martian(iph->daddr))
			return XF_SLOW_MARTIAN;
		return 0;
	}
	if (xf_ipv6_martian(p->key6.src) || xf_ipv6_martian(p->key6.dst))
		return XF_SLOW_MARTIAN;
	return 0;
}

#endif /* XDPFLOW_BPF_L3_H */
