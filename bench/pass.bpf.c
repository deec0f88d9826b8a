// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The cheapest XDP program: the baseline of the per-packet cost figures. */
/* UAPI types before libbpf's helper headers, which use them. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xfb_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
