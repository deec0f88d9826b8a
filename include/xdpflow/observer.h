/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Structures shared by the egress observer (bpf/observer.bpf.c) and the
 * loader. Same conventions as flow.h: fixed-width kernel types, explicit
 * padding, layouts pinned by static asserts; addresses and ports in network
 * order, everything else host order.
 *
 * The observer learns what the kernel did with a connection instead of the
 * loader re-deriving it: for each direction of a connection the control
 * plane marks as waiting (an entry in xf_obs_watch), a tc program records
 * what the kernel actually sent (egress interface, the whole L2 header,
 * DSCP/ECN) and, at tc ingress, how the direction arrived (to tell whether
 * the kernel changed the TOS on the way). New or changed records go to the
 * control plane through a ring buffer.
 */
#ifndef XDPFLOW_OBSERVER_H
#define XDPFLOW_OBSERVER_H

#include "xdpflow/flow.h"

/* Connections waiting at once (each takes up to four watch entries). */
#define XF_OBS_MAX_WATCH 65536u
/* Ring buffer size: each event is 72 bytes plus an 8-byte header. */
#define XF_OBS_RINGBUF_BYTES (256u * 1024u)

/* xf_obs_key.point: where a packet is seen */
enum xf_obs_point {
	XF_OBS_EGRESS = 0,  /* tc egress: the tuple as sent (post-NAT) */
	XF_OBS_INGRESS = 1, /* tc ingress: the tuple as it arrived (pre-NAT) */
};

/* One direction of one connection at one observation point. */
struct xf_obs_key {
	__u32 src[4]; /* network order; IPv4 in src[0], the rest zero */
	__u32 dst[4];
	__u16 sport; /* network order */
	__u16 dport;
	__u8 family; /* enum xf_family */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 point;  /* enum xf_obs_point */
	__u8 pad;    /* must be zero */
};
XF_STATIC_ASSERT(sizeof(struct xf_obs_key) == 40, "xf_obs_key layout");
XF_STATIC_ASSERT(XF_OFFSETOF(struct xf_obs_key, sport) == 32, "xf_obs_key.sport");

/* xf_observation.flags */
enum xf_obs_flags {
	XF_OBS_SEEN = 1u << 0,	     /* a packet was seen (the loader writes 0) */
	XF_OBS_VLAN_META = 1u << 1,  /* the outer tag was in skb->vlan_tci */
	XF_OBS_UNPARSED = 1u << 2,   /* the L2/L3 headers were not understood */
	XF_OBS_IP_OPTIONS = 1u << 3, /* IPv4 options: the fast path refuses */
};

/*
 * What the kernel sent (or received) for one direction. The loader inserts
 * it zeroed; the program overwrites it when a packet differs from it.
 */
struct xf_observation {
	__u32 ifindex;	       /* skb->ifindex: the device the frame is on */
	__u8 src_mac[6];       /* as on the wire */
	__u8 dst_mac[6];       /* as on the wire */
	struct xf_encap encap; /* VLAN tags (in-band or metadata) and PPPoE */
	__u8 tos;	       /* IPv4 TOS / IPv6 traffic class: DSCP | ECN */
	__u8 flags;	       /* enum xf_obs_flags */
	__u16 pad;	       /* must be zero */
};
XF_STATIC_ASSERT(sizeof(struct xf_observation) == 28, "xf_observation layout");

/* xf_obs_event.kind */
enum xf_obs_event_kind {
	XF_OBS_EV_WATCHED = 0, /* a watched direction's new or changed record */
	XF_OBS_EV_SYN = 1,     /* a TCP SYN or SYN-ACK, watched or not: the
				* handshake shows where both directions go
				* before conntrack has even said the
				* connection exists, so an established one
				* is offloaded without waiting for more */
};

/* A ring-buffer record. */
struct xf_obs_event {
	struct xf_obs_key key;
	struct xf_observation obs;
	__u32 kind; /* enum xf_obs_event_kind */
};
XF_STATIC_ASSERT(sizeof(struct xf_obs_event) == 72, "xf_obs_event layout");

/*
 * Why an offloadable connection waits on the kernel path (published in
 * xf_obs_pending for `xdpflow flows --pending`, counted in
 * xf_obs_status.waiting[]). Stable numbering.
 */
enum xf_wait_reason {
	XF_WAIT_NOT_OBSERVED = 0, /* no packet of a direction seen leaving yet */
	XF_WAIT_NOT_ATTACHED,	  /* the kernel sends it through an interface
				   * xdpflow is not attached to (detail: it) */
	XF_WAIT_CANNOT_REPRODUCE, /* the rewrite would not give the kernel's
				   * frame (detail: enum xf_wait_field) */
	XF_WAIT_TABLE_FULL,	  /* the flow table is full */
	XF_WAIT_EXCLUDED,	  /* excluded by --exclude-mark */
	XF_WAIT_MAX,
};

/* xf_pending.detail with XF_WAIT_CANNOT_REPRODUCE: the differing field */
enum xf_wait_field {
	XF_FIELD_NONE = 0,
	XF_FIELD_TOS,	     /* the kernel changed DSCP/ECN on the way */
	XF_FIELD_ENCAP,	     /* more tags than the data path writes */
	XF_FIELD_IP_OPTIONS, /* IPv4 options */
	XF_FIELD_HEADERS,    /* headers the observer could not parse */
	XF_FIELD_MAX,
};

/* Why entries left the table on an invalidation (xf_obs_status.removed[]). */
enum xf_invalidation {
	XF_INVAL_ROUTE = 0, /* a route changed */
	XF_INVAL_RULE,	    /* an ip rule changed */
	XF_INVAL_NEIGH,	    /* a neighbour changed or left */
	XF_INVAL_LINK,	    /* a link or an address changed */
	XF_INVAL_FDB,	    /* a bridge station moved or left */
	XF_INVAL_RULESET,   /* the nftables ruleset changed */
	XF_INVAL_QDISC,	    /* a qdisc or ingress filter changed the hook */
	XF_INVAL_MAX,
};

/* One waiting connection, keyed by its original tuple (point unused). */
struct xf_pending {
	struct xf_obs_key reply; /* conntrack's reply tuple */
	__u32 ct_id;
	__u32 detail;	/* egress ifindex (NOT_ATTACHED) or enum xf_wait_field */
	__u8 reason;	/* enum xf_wait_reason */
	__u8 direction; /* the direction that waits (enum xf_direction) */
	__u16 pad;
	__u32 pad2;
};
XF_STATIC_ASSERT(sizeof(struct xf_pending) == 56, "xf_pending layout");

/* Observer and invalidation totals, written by the loader only. */
struct xf_obs_status {
	__u64 waiting[XF_WAIT_MAX];	   /* connections waiting now, by reason */
	__u64 removed[XF_INVAL_MAX];	   /* connections removed, by cause */
	__u64 invalidations[XF_INVAL_MAX]; /* changes seen, by cause */
	__u64 observations;		   /* ring-buffer events handled */
	__u64 neigh_refreshes;		   /* NTF_USE sent for stale neighbours */
	__u64 last_invalidation_ns;	   /* CLOCK_MONOTONIC of the last change */
	__u64 last_invalidation_cost_ns;   /* its table sweep took this long */
	__u64 pad[2];
};
XF_STATIC_ASSERT(sizeof(struct xf_obs_status) == 8 * (5 + 7 + 7 + 6), "xf_obs_status layout");

#endif /* XDPFLOW_OBSERVER_H */
