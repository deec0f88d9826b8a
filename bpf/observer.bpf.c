// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The egress observer: what the kernel actually sent for the connections the
 * control plane is waiting to offload (include/xdpflow/observer.h).
 *
 * Two tc programs on every attached interface. At egress the kernel has
 * routed (mark, ip rules, ECMP hash), bridged (FDB), encapsulated (VLAN,
 * PPPoE), NATed and resolved the neighbour: the frame is its decision,
 * recorded as is. At ingress the same direction's TOS as it arrived tells
 * whether the kernel changed DSCP/ECN on the way (the fast path does not).
 *
 * Cost for everything else: parse to the ports and one hash lookup that
 * misses (plus, for a TCP SYN or SYN-ACK, one ring-buffer record: see
 * XF_OBS_EV_SYN). Never changes or drops a packet: both programs return
 * TC_ACT_UNSPEC (tcx: TCX_NEXT), so whatever else is attached runs.
 */
#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#include "xdpflow/observer.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define OBS_ETH_P_8021Q 0x8100
#define OBS_ETH_P_8021AD 0x88a8
#define OBS_ETH_P_PPPOE_SESS 0x8864
#define OBS_PPP_IPV4 0x0021
#define OBS_PPP_IPV6 0x0057
#define OBS_IP_FRAG 0x3fff
#define OBS_TCP_SYN 0x02

/* Directions the control plane waits for, by tuple and point; the value is
 * the last observation (zero until a packet is seen). Filled by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xf_obs_key);
	__type(value, struct xf_observation);
	__uint(max_entries, 4 * XF_OBS_MAX_WATCH);
} xf_obs_watch SEC(".maps");

/* New or changed observations, for the control plane's poll loop. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XF_OBS_RINGBUF_BYTES);
} xf_obs_events SEC(".maps");

/* Published by the loader for `xdpflow status` / `flows --pending`; the
 * programs never touch them (the loader binds them to the fast path's
 * program so other processes find them by its map ids). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xf_obs_status);
	__uint(max_entries, 1);
} xf_obs_status SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xf_obs_key);
	__type(value, struct xf_pending);
	__uint(max_entries, XF_OBS_MAX_WATCH);
} xf_obs_pending SEC(".maps");

struct obs_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct obs_pppoe_hdr {
	__u8 ver_type;
	__u8 code;
	__be16 sid;
	__be16 length;
	__be16 ppp_proto;
};

/* Parses the frame into key (without point) and obs; 0 when it is a TCP or
 * UDP packet of a tuple, -1 otherwise. *syn: a TCP segment with SYN set. */
static __always_inline int obs_parse(struct __sk_buff *skb, struct xf_obs_key *key,
				     struct xf_observation *obs, int *syn)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	void *pos;
	__u16 proto;
	__u8 l4proto, n = 0;

	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(obs->src_mac, eth->h_source, 6);
	__builtin_memcpy(obs->dst_mac, eth->h_dest, 6);
	obs->ifindex = skb->ifindex;
	/* A tag the device inserts (tx VLAN offload) or took off on receive is
	 * in the skb's metadata, outside any in-band tag. */
	if (skb->vlan_present) {
		obs->encap.vlan_id[0] = skb->vlan_tci & 0x0fff;
		if (skb->vlan_proto == bpf_htons(OBS_ETH_P_8021AD))
			obs->encap.flags |= XF_ENCAP_OUTER_8021AD;
		obs->flags |= XF_OBS_VLAN_META;
		n = 1;
	}
	proto = bpf_ntohs(eth->h_proto);
	pos = eth + 1;
#pragma unroll
	for (int i = 0; i < 3; i++) {
		struct obs_vlan_hdr *vh = pos;

		if (proto != OBS_ETH_P_8021Q && proto != OBS_ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > end)
			return -1;
		if (n >= 2) {
			/* More tags than the data path writes: still a tuple to
			 * report, flagged. */
			obs->flags |= XF_OBS_UNPARSED;
		} else if (n == 0) {
			obs->encap.vlan_id[0] = bpf_ntohs(vh->tci) & 0x0fff;
			if (proto == OBS_ETH_P_8021AD)
				obs->encap.flags |= XF_ENCAP_OUTER_8021AD;
		} else {
			obs->encap.vlan_id[1] = bpf_ntohs(vh->tci) & 0x0fff;
		}
		n++;
		proto = bpf_ntohs(vh->proto);
		pos = vh + 1;
	}
	if (proto == OBS_ETH_P_8021Q || proto == OBS_ETH_P_8021AD)
		return -1;
	obs->encap.vlan_count = n > 2 ? 2 : n;

	if (proto == OBS_ETH_P_PPPOE_SESS) {
		struct obs_pppoe_hdr *ph = pos;

		if ((void *)(ph + 1) > end || ph->ver_type != 0x11 || ph->code != 0)
			return -1;
		obs->encap.flags |= XF_ENCAP_PPPOE;
		obs->encap.pppoe_sid = bpf_ntohs(ph->sid);
		if (ph->ppp_proto == bpf_htons(OBS_PPP_IPV4))
			proto = ETH_P_IP;
		else if (ph->ppp_proto == bpf_htons(OBS_PPP_IPV6))
			proto = ETH_P_IPV6;
		else
			return -1;
		pos = ph + 1;
	}

	if (proto == ETH_P_IP) {
		struct iphdr *iph = pos;

		if ((void *)(iph + 1) > end || iph->version != 4 || iph->ihl < 5)
			return -1;
		if (iph->frag_off & bpf_htons(OBS_IP_FRAG))
			return -1; /* no ports in a fragment */
		if (iph->ihl != 5)
			obs->flags |= XF_OBS_IP_OPTIONS;
		key->family = XF_FAMILY_IPV4;
		key->src[0] = iph->saddr;
		key->dst[0] = iph->daddr;
		obs->tos = iph->tos;
		l4proto = iph->protocol;
		pos += iph->ihl * 4;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6h = pos;

		if ((void *)(ip6h + 1) > end || ip6h->version != 6)
			return -1;
		key->family = XF_FAMILY_IPV6;
		__builtin_memcpy(key->src, &ip6h->saddr, 16);
		__builtin_memcpy(key->dst, &ip6h->daddr, 16);
		obs->tos = ip6h->priority << 4 | ip6h->flow_lbl[0] >> 4;
		l4proto = ip6h->nexthdr; /* extension headers: no tuple, no match */
		pos = ip6h + 1;
	} else {
		return -1;
	}
	if (l4proto != IPPROTO_TCP && l4proto != IPPROTO_UDP)
		return -1;
	/* Source and destination port lead both headers. */
	if (pos + 4 > end)
		return -1;
	key->sport = *(__u16 *)pos;
	key->dport = *(__u16 *)(pos + 2);
	key->proto = l4proto;
	*syn = 0;
	if (l4proto == IPPROTO_TCP && pos + 14 <= end)
		*syn = (*(__u8 *)(pos + 13) & OBS_TCP_SYN) != 0;
	return 0;
}

static __always_inline int same_observation(const struct xf_observation *a,
					    const struct xf_observation *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

#pragma unroll
	for (int i = 0; i < sizeof(*a) / 4; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static __always_inline int observe(struct __sk_buff *skb, __u8 point)
{
	struct xf_obs_key key = {};
	struct xf_obs_event ev = {};
	struct xf_observation *known;
	int syn = 0;

	if (obs_parse(skb, &key, &ev.obs, &syn))
		return TC_ACT_UNSPEC;
	key.point = point;
	ev.obs.flags |= XF_OBS_SEEN;
	known = bpf_map_lookup_elem(&xf_obs_watch, &key);
	if (!known) {
		/* The handshake, reported unasked: one record per SYN and
		 * SYN-ACK, at the connection rate, not the packet rate. */
		if (syn) {
			ev.key = key;
			ev.kind = XF_OBS_EV_SYN;
			bpf_ringbuf_output(&xf_obs_events, &ev, sizeof(ev), 0);
		}
		return TC_ACT_UNSPEC;
	}
	if (same_observation(known, &ev.obs))
		return TC_ACT_UNSPEC;
	/* Several CPUs may race here for one connection: each writes a whole
	 * observation of a real packet and reports it, so the control plane
	 * ends with one of them, and a later differing packet reports again.
	 * Recorded only once reported: with the ring buffer full (a burst of
	 * new connections faster than the control plane reads), a record
	 * written but not reported would make every later packet "the same"
	 * and the direction would never be learned; unrecorded, the next
	 * packet reports it again. */
	ev.key = key;
	if (bpf_ringbuf_output(&xf_obs_events, &ev, sizeof(ev), 0) == 0)
		*known = ev.obs;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int xf_observe_egress(struct __sk_buff *skb)
{
	return observe(skb, XF_OBS_EGRESS);
}

SEC("tc")
int xf_observe_ingress(struct __sk_buff *skb)
{
	return observe(skb, XF_OBS_INGRESS);
}
