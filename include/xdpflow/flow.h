/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one definition of every structure shared by the XDP program (bpf/) and
 * the loader (loader/, tests/). Fixed-width kernel types, explicit padding,
 * sizes and offsets pinned by static asserts: a layout change must be made
 * here and nowhere else.
 *
 * Byte order: addresses and ports are kept in network byte order exactly as
 * they appear on the wire, so the data path copies them without swapping.
 * Everything else (ifindex, VLAN IDs, PPPoE session IDs, MTU) is host order.
 */
#ifndef XDPFLOW_FLOW_H
#define XDPFLOW_FLOW_H

#include <linux/types.h>

#ifdef __cplusplus
#include <cstddef>
#define XF_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define XF_OFFSETOF(type, member) offsetof(type, member)
#define XF_FLOW_INLINE static inline
#else
#define XF_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define XF_OFFSETOF(type, member) __builtin_offsetof(type, member)
#define XF_FLOW_INLINE static inline __attribute__((always_inline))
#endif

/* Default number of connections the flow table holds, per address family;
 * each connection takes two map entries (original and reply direction). */
#define XF_DEFAULT_MAX_FLOWS 262144u
/* Interfaces xdpflow can redirect to (size of the devmap). */
#define XF_MAX_INTERFACES 256u
/* Slots of the interface table (xf_ifaces): slot = ifindex % XF_IFACE_SLOTS,
 * a direct-mapped array the verifier inlines (a hash lookup per hit cost
 * more than the whole MAC check). Two attached interfaces whose ifindexes
 * share a slot are refused by the loader. */
#define XF_IFACE_SLOTS 4096u
/* The TC hook stops forwarding when the control plane's published clock is
 * older than this: a clsact filter outlives a killed control plane. */
#define XF_CLOCK_STALE_NS 2000000000ull

/* Index of the per-hook counters in the xf_counters array. */
enum xf_hook {
	XF_HOOK_XDP = 0,
	XF_HOOK_TC = 1,
	XF_HOOK_COUNT = 2,
};

/* xf_flow_key.family */
enum xf_family {
	XF_FAMILY_IPV4 = 4,
	XF_FAMILY_IPV6 = 6,
};

/* xf_encap.flags */
enum xf_encap_flags {
	XF_ENCAP_PPPOE = 1u << 0,	 /* PPPoE session header after the tags */
	XF_ENCAP_OUTER_8021AD = 1u << 1, /* outer tag is 802.1ad (0x88a8) */
};

/*
 * The layer-2 encapsulation a frame arrived with (in the key) or must leave
 * with (in the action): zero, one or two VLAN tags and optionally a PPPoE
 * session. Priority bits (PCP/DEI) are not part of it: the data path writes
 * PCP 0 on egress tags, as a VLAN device without egress-qos-map does.
 */
struct xf_encap {
	__u16 vlan_id[2]; /* VIDs, [0] outermost; valid below vlan_count */
	__u16 pppoe_sid;  /* PPPoE session id, valid with XF_ENCAP_PPPOE */
	__u8 vlan_count;  /* 0, 1 or 2 */
	__u8 flags;	  /* enum xf_encap_flags */
};
XF_STATIC_ASSERT(sizeof(struct xf_encap) == 8, "xf_encap layout");

/*
 * One direction of one connection as seen on the wire at the ingress
 * interface: the loader's form of a flow table key, for both families (IPv4
 * addresses in src[0]/dst[0], the rest zero). The maps use the compact
 * per-family keys below; the loader converts (loader/core/flow_key).
 */
struct xf_flow_key {
	__u32 ifindex;	       /* ingress interface */
	struct xf_encap encap; /* ingress encapsulation */
	__u8 family;	       /* enum xf_family */
	__u8 proto;	       /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 pad;	       /* must be zero */
	__u32 src[4];	       /* network order */
	__u32 dst[4];	       /* network order */
	__u16 sport;	       /* network order */
	__u16 dport;	       /* network order */
};
XF_STATIC_ASSERT(sizeof(struct xf_flow_key) == 52, "xf_flow_key layout");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_flow_key, src) == 16, "xf_flow_key.src");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_flow_key, sport) == 48, "xf_flow_key.sport");

/*
 * The map keys. The kernel's hash map runs jhash over the whole key on every
 * lookup, a serial chain of about 18 instructions per 12 bytes: the 52-byte
 * key above cost 20 ns a packet (7 % of the forwarding time, perf), so IPv4
 * flows, the common case, get a map with a 24-byte key and IPv6 flows one
 * with 48 bytes. Both start with the same head.
 */

/* xf_key_head.encap: vlan_count in the low two bits, xf_encap.flags above */
#define XF_KEY_ENCAP(vlan_count, flags) ((__u8)((vlan_count) | ((flags) << 2)))
#define XF_KEY_VLAN_COUNT(encap) ((encap)&3u)
#define XF_KEY_ENCAP_FLAGS(encap) ((encap) >> 2)

struct xf_key_head {
	__u32 ifindex;	  /* ingress interface */
	__u16 vlan_id[2]; /* as xf_encap.vlan_id, zero when absent */
	__u16 pppoe_sid;  /* as xf_encap.pppoe_sid, zero when absent */
	__u8 proto;	  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 encap;	  /* XF_KEY_ENCAP(vlan_count, flags) */
};
XF_STATIC_ASSERT(sizeof(struct xf_key_head) == 12, "xf_key_head layout");

struct xf_flow_key4 {
	struct xf_key_head head;
	__u32 src;   /* network order */
	__u32 dst;   /* network order */
	__u16 sport; /* network order */
	__u16 dport; /* network order */
};
XF_STATIC_ASSERT(sizeof(struct xf_flow_key4) == 24, "xf_flow_key4 layout");

struct xf_flow_key6 {
	struct xf_key_head head;
	__u32 src[4]; /* network order */
	__u32 dst[4]; /* network order */
	__u16 sport;  /* network order */
	__u16 dport;  /* network order */
};
XF_STATIC_ASSERT(sizeof(struct xf_flow_key6) == 48, "xf_flow_key6 layout");

/* xf_flow_action.nat: which fields the data path rewrites */
enum xf_nat_flags {
	XF_NAT_SRC_ADDR = 1u << 0,
	XF_NAT_DST_ADDR = 1u << 1,
	XF_NAT_SRC_PORT = 1u << 2,
	XF_NAT_DST_PORT = 1u << 3,
};

/* xf_flow_action.direction: which conntrack tuple the key is */
enum xf_direction {
	XF_DIR_ORIGINAL = 0,
	XF_DIR_REPLY = 1,
};

/* What to do with a packet that hits: written by the control plane only. */
struct xf_flow_action {
	__u32 egress_ifindex;  /* redirect target, must be in the devmap */
	__u16 mtu;	       /* egress L3 MTU; longer IP packets pass */
	__u8 nat;	       /* enum xf_nat_flags */
	__u8 direction;	       /* enum xf_direction */
	struct xf_encap encap; /* egress encapsulation to write */
	__u8 src_mac[6];       /* egress interface's MAC */
	__u8 dst_mac[6];       /* next hop's MAC */
	__u32 new_src[4];      /* network order, with XF_NAT_SRC_ADDR */
	__u32 new_dst[4];      /* network order, with XF_NAT_DST_ADDR */
	__u16 new_sport;       /* network order, with XF_NAT_SRC_PORT */
	__u16 new_dport;       /* network order, with XF_NAT_DST_PORT */
};
XF_STATIC_ASSERT(sizeof(struct xf_flow_action) == 64, "xf_flow_action layout");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_flow_action, src_mac) == 16, "xf_flow_action.src_mac");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_flow_action, new_src) == 28, "xf_flow_action.new_src");

/* xf_flow_value.flags */
enum xf_flow_flags {
	/* The egress is shaped (qdisc): the XDP hook passes hits to the kernel
	 * (XF_SLOW_TO_TC), the TC hook on the same interface forwards them
	 * through the egress qdisc. */
	XF_FLOW_TC_ONLY = 1u << 0,
};

/* Flow table value: the action, then counters the data path updates. */
struct xf_flow_value {
	struct xf_flow_action action;
	__u64 packets;	    /* fast-path packets (plain increments, see bpf) */
	__u64 bytes;	    /* fast-path bytes (whole frames as received) */
	__u64 last_seen_ns; /* clock of the last hit: CLOCK_MONOTONIC as the
			     * control plane publishes it (xf_clock_ns) */
	__u32 flags;	    /* enum xf_flow_flags, set by the control plane */
	__u32 ct_id;	    /* owning conntrack entry's CTA_ID, host order:
			     * the table is the control plane's state, so an
			     * entry says which connection it belongs to */
	__u64 action_check; /* xf_action_check() of the action, written with
			     * it (FlowMaps): see below */
};
XF_STATIC_ASSERT(sizeof(struct xf_flow_value) == 104, "xf_flow_value layout");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_flow_value, action_check) == 96,
		 "xf_flow_value.action_check");

/*
 * No torn entries. The flow maps are preallocated hash maps: an update of a
 * live key copies the new value into a spare element and hands the old one
 * back as the next spare, so the next update on that CPU overwrites an
 * element another CPU may still be reading, in no particular byte order
 * (memcpy). The data path therefore copies the action and this check word
 * once, recomputes the check over its copy and refuses the hit
 * (XF_SLOW_TORN) when they differ: a copy made of two versions does not
 * match (a change of any one word always changes the sum: every weight is
 * odd, hence invertible modulo 2^64; several words' changes cancel only by
 * an exact linear coincidence). Independent multiplies: a few ns a hit.
 */
/* Odd weights below 2^31: each one multiply with an immediate in BPF. */
#define XF_CHECK_W0 0x7feb352dull
#define XF_CHECK_W1 0x68e31da5ull
#define XF_CHECK_W2 0x2c1b3c6dull
#define XF_CHECK_W3 0x297a2d39ull
#define XF_CHECK_W4 0x1b873593ull
#define XF_CHECK_W5 0x5bd1e995ull
#define XF_CHECK_W6 0x3243f6a9ull
#define XF_CHECK_W7 0x61c88647ull
#define XF_CHECK_SEED 0x2545f491ull /* an all-zero action does not check as 0 */

/* The check of the action's eight 64-bit words as they lie in memory. */
XF_FLOW_INLINE __u64 xf_action_check_words(__u64 w0, __u64 w1, __u64 w2, __u64 w3, __u64 w4,
					   __u64 w5, __u64 w6, __u64 w7)
{
	return XF_CHECK_SEED + w0 * XF_CHECK_W0 + w1 * XF_CHECK_W1 + w2 * XF_CHECK_W2 +
	       w3 * XF_CHECK_W3 + w4 * XF_CHECK_W4 + w5 * XF_CHECK_W5 + w6 * XF_CHECK_W6 +
	       w7 * XF_CHECK_W7;
}
XF_STATIC_ASSERT(sizeof(struct xf_flow_action) == 8 * sizeof(__u64), "xf_action_check words");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_flow_value, packets) == 64, "xf_flow_value.packets");

/*
 * Why a packet went to the kernel (XDP_PASS). Stable numbering: the loader,
 * JSON output and tests index xf_counters.slow[] with it.
 */
enum xf_slow_reason {
	XF_SLOW_NO_FLOW = 0,	/* parsed, no entry for the key */
	XF_SLOW_TCP_FIN_RST,	/* conntrack must see the teardown */
	XF_SLOW_TTL,		/* TTL / hop limit would expire */
	XF_SLOW_MTU,		/* longer than the egress MTU */
	XF_SLOW_UNPARSED,	/* truncated or malformed headers */
	XF_SLOW_NOT_IP,		/* ethertype / PPP protocol not IPv4/IPv6 */
	XF_SLOW_NOT_TCP_UDP,	/* another L4 protocol (ICMP, ...) */
	XF_SLOW_IP_OPTIONS,	/* IPv4 with options */
	XF_SLOW_FRAGMENT,	/* IPv4 fragment */
	XF_SLOW_IPV6_EXT,	/* IPv6 extension header */
	XF_SLOW_NO_EGRESS,	/* egress missing from the devmap */
	XF_SLOW_NOT_UNICAST,	/* group-addressed destination MAC: never
				 * forwarded by the kernel (ip_forward) */
	XF_SLOW_TO_TC,		/* XDP hit on an XF_FLOW_TC_ONLY flow */
	XF_SLOW_STALE,		/* TC: published clock older than 2 s */
	XF_SLOW_NOT_FOR_US,	/* unicast destination MAC not the ingress
				 * interface's own (PACKET_OTHERHOST) */
	XF_SLOW_ADJUST_FAILED,	/* growing the layer-2 header failed */
	XF_SLOW_TC_UNSUPPORTED, /* TC cannot do this exactly: shrinking the
				 * layer-2 header, PPPoE on a GSO skb... */
	XF_SLOW_IP_CSUM,	/* bad IPv4 header checksum (ip_rcv_core) */
	XF_SLOW_IP_HEADER,	/* IP version or IHL < 5 (ip_rcv_core) */
	XF_SLOW_IP_LENGTH,	/* IPv4 total / IPv6 payload length longer
				 * than the frame, or IPv4 total < IHL */
	XF_SLOW_L4_TRUNCATED,	/* TCP/UDP header past the IP packet's end */
	XF_SLOW_TCP_DOFF,	/* TCP data offset < 5 */
	XF_SLOW_MARTIAN,	/* source or destination address the kernel
				 * drops or treats specially (multicast,
				 * broadcast, loopback, 0/8, class E,
				 * v4-mapped, link-local...) */
	XF_SLOW_TRAILER,	/* TC: bytes after the IP packet (the kernel
				 * trims them; XDP trims them itself) */
	XF_SLOW_TORN,		/* the entry changed while it was read (see
				 * xf_action_check_words) */
	XF_SLOW_MAX,
};

/* Counters, one copy per CPU and per hook (BPF_MAP_TYPE_PERCPU_ARRAY,
 * key enum xf_hook). Totals are the sum over both hooks. */
struct xf_counters {
	__u64 rx_packets;   /* every frame the program saw */
	__u64 fast_packets; /* redirected by a flow entry */
	__u64 fast_bytes;
	__u64 redirect_errors;	     /* the egress is not a redirect target */
	__u64 slow[XF_SLOW_MAX];     /* passed to the kernel, by enum xf_slow_reason */
	__u64 pad[28 - XF_SLOW_MAX]; /* room to grow without changing the size */
};
XF_STATIC_ASSERT(sizeof(struct xf_counters) == 256, "xf_counters layout");

/* Adds the counters c to t (per-CPU and per-hook sums, loader side). */
XF_FLOW_INLINE void xf_counters_add(struct xf_counters *t, const struct xf_counters *c)
{
	t->rx_packets += c->rx_packets;
	t->fast_packets += c->fast_packets;
	t->fast_bytes += c->fast_bytes;
	t->redirect_errors += c->redirect_errors;
	for (int r = 0; r < XF_SLOW_MAX; r++)
		t->slow[r] += c->slow[r];
}

/* One attached interface as the data path needs it (map xf_ifaces, slot
 * ifindex % XF_IFACE_SLOTS): its own MAC for the destination-MAC check.
 * ifindex 0 marks a free slot. */
struct xf_iface {
	__u32 ifindex;
	__u8 mac[6];
	__u16 pad; /* must be zero */
};
XF_STATIC_ASSERT(sizeof(struct xf_iface) == 12, "xf_iface layout");

/*
 * Control-plane state published for other processes (`xdpflow status`,
 * `stats`) in a one-entry BPF array: they find it through the attached
 * program's map ids, so no pin or socket is needed to read it. Written by
 * the loader only; times are CLOCK_MONOTONIC nanoseconds.
 */
struct xf_status {
	__u32 pid;	 /* the control plane's process */
	__u32 max_flows; /* connections the table holds */
	__u64 started_ns;
	__u64 heartbeat_ns; /* refreshed every loop iteration */
	__u64 last_ct_event_ns;
	__u64 ct_events;       /* conntrack messages handled */
	__u64 resyncs;	       /* full dumps after an overrun */
	__u64 parse_errors;    /* malformed netlink messages */
	__u64 flows_offloaded; /* connections in the table now */
	__u64 rejected_full;   /* offloads refused: table full */
	__u64 offloads_total;
	__u64 removals_total;
	__u64 keepalive_refreshes; /* conntrack timeouts refreshed */
	__u64 events_lost;	   /* netlink overruns seen */
	__u64 pad[4];
};
XF_STATIC_ASSERT(sizeof(struct xf_status) == 136, "xf_status layout");

#endif /* XDPFLOW_FLOW_H */
