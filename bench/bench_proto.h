/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmark's BPF programs (generator, sink, bare forwarder) and its
 * runner (xfbench) must agree on: the generator's configuration, the frames it
 * sends, and how flow number i maps onto addresses and ports, so that the
 * runner can fill the flow table with exactly the flows the generator cycles
 * through. Kernel style: included by BPF C and by C++.
 */
#ifndef XDPFLOW_BENCH_PROTO_H
#define XDPFLOW_BENCH_PROTO_H

#include <linux/types.h>

/* UDP destination port of every generated frame. */
#define XFB_DPORT 7777
/* Mixed traffic: the port of the frames that must miss (no flow entry has
 * it, so the kernel path forwards them). */
#define XFB_MISS_DPORT 7778
/* Flow i: source port XFB_SPORT_BASE + (i & XFB_SPORT_MASK), source address
 * flow 0's + (i >> XFB_SPORT_BITS) (added to the last 32-bit word, host
 * order). 1 M flows use 64 source addresses x 16384 ports. */
#define XFB_SPORT_BITS 14
#define XFB_SPORT_MASK ((1u << XFB_SPORT_BITS) - 1)
#define XFB_SPORT_BASE 1024
#define XFB_MAX_FLOWS (1u << 22)
/* Generated frame size, Ethernet header included, FCS not (veth has none):
 * IPv4 carries 22 payload bytes, IPv6 2. */
#define XFB_FRAME_LEN 64
#define XFB_MAX_FRAME_LEN 128

/* Read-only configuration of the generator, set before load. */
struct xfb_gen_config {
  __u8 dst_mac[6]; /* the gateway's ingress MAC */
  __u8 src_mac[6]; /* the generator's veth MAC */
  __u32 family;    /* 4 or 6 */
  __u32 nflows;    /* cycle through flows 0 .. nflows-1, one per frame */
  __u32 src[4];    /* flow 0's source address, network order */
  __u32 dst[4];    /* destination address, network order */
  __u32 frame_len; /* bytes, Ethernet header included, no FCS */
  __u32 pad;
};

/* Sink counters (BPF_MAP_TYPE_PERCPU_ARRAY, key 0). */
struct xfb_sink_counters {
  __u64 packets; /* generator frames counted and dropped (misses included) */
  __u64 bytes;
  __u64 ttl_fixed; /* counted frames whose TTL / hop limit was not decremented */
  __u64 passed;    /* other frames (ARP, ping-pong, ND): XDP_PASS */
  __u64 misses;    /* of packets: to XFB_MISS_DPORT (mixed traffic) */
};

/*
 * What the napi:napi_poll tracepoint program records for one NAPI kthread
 * (the gateway's receive queue), in its .bss: every poll, and the intervals
 * between two full-budget polls in a row. A full poll is followed at once
 * by the next one (no sleep, no wake-up between them), so such an interval
 * is the thread's time for the previous poll's aftermath (GRO flush, stack)
 * and this poll's packets: ns per packet without the wake-ups, which cost
 * ~18 us each on a KVM guest and would otherwise dominate.
 */
#define XFB_MAX_NAPI 4
struct xfb_napi_stats {
  __u64 polls;
  __u64 packets;        /* work of every poll */
  __u64 full_intervals; /* full poll after a full poll */
  __u64 full_packets;   /* work of those polls */
  __u64 full_ns;        /* time since the previous poll, summed */
  __u64 last_ns;        /* previous poll (internal) */
  __u32 last_full;      /* previous poll had work == budget (internal) */
  __u32 pad;
};

static inline __u16 xfb_flow_sport(__u32 i) {
  return (__u16)(XFB_SPORT_BASE + (i & XFB_SPORT_MASK));
}

static inline __u32 xfb_flow_src_offset(__u32 i) {
  return i >> XFB_SPORT_BITS;
}

/* TTL / hop limit the generator writes; the sink checks for one less. */
#define XFB_TTL 64

#endif /* XDPFLOW_BENCH_PROTO_H */
