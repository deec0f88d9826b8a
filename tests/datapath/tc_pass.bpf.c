// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A tc program that lets every packet continue (TC_ACT_UNSPEC is also tcx's
 * TCX_NEXT): what the TcLink tests attach, so they test attachment, not the
 * fast path. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int xf_tc_pass(struct __sk_buff *skb) {
  return TC_ACT_UNSPEC;
}
