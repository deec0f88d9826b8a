// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bare XDP forwarder: the upper bound for any XDP forwarder on this rig.
 * Fixed MAC rewrite and bpf_redirect() to a fixed interface; no parsing, no
 * lookup, no TTL, no counters.
 */
/* UAPI types before libbpf's helper headers, which use them. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u8 src_mac[ETH_ALEN] = {};
const volatile __u8 dst_mac[ETH_ALEN] = {};
const volatile __u32 out_ifindex = 0;

SEC("xdp")
int xfb_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = dst_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	return bpf_redirect(out_ifindex, 0);
}
