// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The cheapest XDP program: the baseline xdpflow_prog_cost measures against. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xf_pass_only(struct xdp_md *ctx) {
  return XDP_PASS;
}
