// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Traffic generator for BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES:
 * every run writes one complete 64-byte UDP frame (flow number seq %
 * nflows) and sends it out of the veth the test run is bound to (XDP_TX).
 * The kernel recycles live-frame pages, and the gateway rewrites frames in
 * place (MACs, TTL, NAT), so nothing of a previous frame may be trusted:
 * Ethernet, IP and UDP headers are written in full, checksums included.
 */
/* UAPI types before libbpf's helper headers, which use them. */
#include <linux/bpf.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "bench_proto.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct xfb_gen_config cfg = {};
/* Frames generated so far (one CPU drives the generator). */
__u64 seq = 0;

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static __always_inline void write_macs(struct ethhdr *eth)
{
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = cfg.dst_mac[i];
		eth->h_source[i] = cfg.src_mac[i];
	}
}

static __always_inline void write_udp(struct udphdr *uh, __u32 flow, __u16 len)
{
	uh->source = bpf_htons(xfb_flow_sport(flow));
	uh->dest = bpf_htons(XFB_DPORT);
	uh->len = bpf_htons(len);
	uh->check = 0;
}

SEC("xdp")
int xfb_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 flow = 0, sum = 0;

	if (data + XFB_FRAME_LEN > end)
		return XDP_ABORTED;
	if (cfg.nflows > 1)
		flow = seq % cfg.nflows;
	seq++;
	write_macs(eth);

	if (cfg.family == 4) {
		struct iphdr *iph = (void *)(eth + 1);
		struct udphdr *uh = (void *)(iph + 1);
		__u16 *w = (void *)iph;

		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u16 *)iph = bpf_htons(0x4500); /* version 4, IHL 5, TOS 0 */
		iph->tot_len = bpf_htons(XFB_FRAME_LEN - ETH_HLEN);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = XFB_TTL;
		iph->protocol = IPPROTO_UDP;
		iph->check = 0;
		iph->saddr = bpf_htonl(bpf_ntohl(cfg.src[0]) + xfb_flow_src_offset(flow));
		iph->daddr = cfg.dst[0];
#pragma unroll
		for (int i = 0; i < 10; i++)
			sum += w[i];
		iph->check = (__u16)~fold(sum);
		/* UDP checksum 0: none, as IPv4 allows; forwarders keep it. */
		write_udp(uh, flow, XFB_FRAME_LEN - ETH_HLEN - sizeof(*iph));
		return XDP_TX;
	}

	struct ipv6hdr *ip6h = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip6h + 1);
	__u16 udp_len = XFB_FRAME_LEN - ETH_HLEN - sizeof(*ip6h);
	__u16 *w = (void *)&ip6h->saddr;
	__u16 check;

	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__u32 *)ip6h = bpf_htonl(0x60000000); /* version 6, no class or label */
	ip6h->payload_len = bpf_htons(udp_len);
	ip6h->nexthdr = IPPROTO_UDP;
	ip6h->hop_limit = XFB_TTL;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		ip6h->saddr.in6_u.u6_addr32[i] = cfg.src[i];
		ip6h->daddr.in6_u.u6_addr32[i] = cfg.dst[i];
	}
	ip6h->saddr.in6_u.u6_addr32[3] =
	    bpf_htonl(bpf_ntohl(cfg.src[3]) + xfb_flow_src_offset(flow));
	write_udp(uh, flow, udp_len);
	/* Pseudo-header (addresses, length, next header), UDP header and the
	 * payload, summed as network-order words (RFC 1071 2(B)). */
	sum = bpf_htons(udp_len) + bpf_htons(IPPROTO_UDP);
#pragma unroll
	for (int i = 0; i < (32 + XFB_FRAME_LEN - ETH_HLEN - 40) / 2; i++)
		sum += w[i];
	check = (__u16)~fold(sum);
	uh->check = check ? check : 0xffff;
	return XDP_TX;
}
