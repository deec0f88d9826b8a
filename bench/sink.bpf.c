// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's receiver, in the destination namespace: counts the
 * generator's frames (UDP to XFB_DPORT or XFB_MISS_DPORT with the generator's
 * exact length) and
 * drops them; everything else (ARP, ND, the conntrack warm-up exchange, which
 * uses longer datagrams) goes on to the kernel.
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xfb_sink_counters);
	__uint(max_entries, 1);
} xfb_sink_counters SEC(".maps");

SEC("xdp")
int xfb_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xfb_sink_counters *c;
	struct ethhdr *eth = data;
	struct udphdr *uh;
	__u32 zero = 0;
	__u8 ttl;

	c = bpf_map_lookup_elem(&xfb_sink_counters, &zero);
	if (!c)
		return XDP_PASS;
	if ((void *)(eth + 1) > end)
		goto pass;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > end || iph->ihl != 5 || iph->protocol != IPPROTO_UDP)
			goto pass;
		ttl = iph->ttl;
		uh = (void *)(iph + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > end || ip6h->nexthdr != IPPROTO_UDP)
			goto pass;
		ttl = ip6h->hop_limit;
		uh = (void *)(ip6h + 1);
	} else {
		goto pass;
	}
	if ((void *)(uh + 1) > end ||
	    (uh->dest != bpf_htons(XFB_DPORT) && uh->dest != bpf_htons(XFB_MISS_DPORT)) ||
	    data + XFB_FRAME_LEN != end || (void *)uh + bpf_ntohs(uh->len) != end)
		goto pass;
	if (uh->dest == bpf_htons(XFB_MISS_DPORT))
		c->misses++;
	c->packets++;
	c->bytes += XFB_FRAME_LEN;
	if (ttl != XFB_TTL - 1)
		c->ttl_fixed++;
	return XDP_DROP;
pass:
	c->passed++;
	return XDP_PASS;
}
