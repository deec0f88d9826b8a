// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bare forwarders: the upper bound for any forwarder on this rig, one per
 * hook. Fixed MAC rewrite and bpf_redirect() to a fixed interface; no
 * parsing, no lookup, no TTL, no counters. `xfb_fwd` runs at XDP (the frame
 * as the driver received it); `xfb_fwd_tc` at tc ingress, where the frame
 * arrives as an skb that veth built and GRO handled (what xdpflow's TC hook
 * pays before its program runs). The loader loads only the one it attaches.
 */
/* UAPI types before libbpf's helper headers, which use them. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u8 src_mac[ETH_ALEN] = {};
const volatile __u8 dst_mac[ETH_ALEN] = {};
const volatile __u32 out_ifindex = 0;

static __always_inline int rewrite_macs(void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return -1;
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = dst_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	return 0;
}

SEC("xdp")
int xfb_fwd(struct xdp_md *ctx)
{
	if (rewrite_macs((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	return bpf_redirect(out_ifindex, 0);
}

/* A frame too short for an Ethernet header in the linear part goes to the
 * kernel (none does on the rig: 64-byte frames, built linear by veth). */
SEC("tc")
int xfb_fwd_tc(struct __sk_buff *skb)
{
	if (rewrite_macs((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	return bpf_redirect(out_ifindex, 0);
}
