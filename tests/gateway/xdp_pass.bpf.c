// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pass-only XDP program for the client and server ends of the test gateway.
 * A veth accepts XDP_REDIRECTed frames only when its receiving side runs
 * NAPI, which an XDP program (or GRO) turns on; with an XDP program the
 * kernel also skips GRO, so captures see every frame as it was sent.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xfgw_pass(struct xdp_md *ctx) {
  (void)ctx;
  return XDP_PASS;
}
