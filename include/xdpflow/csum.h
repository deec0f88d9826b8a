/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Incremental Internet checksum arithmetic (RFC 1624, eqn. 3), shared by the
 * XDP program and the unit tests, which check it against full recomputation.
 *
 * Values are taken exactly as they sit in packet memory (network order): the
 * one's complement sum is byte-order independent (RFC 1071 section 2(B)), so
 * no swapping is needed as long as the checksum field is handled the same way.
 *
 * Usage: accumulate every changed 16/32-bit word with xf_csum_acc16/32 into a
 * __u32, then xf_csum_apply() it to the old checksum field value.
 */
#ifndef XDPFLOW_CSUM_H
#define XDPFLOW_CSUM_H

#include <linux/types.h>

#ifdef __cplusplus
#define XF_CSUM_INLINE static inline
#else
#define XF_CSUM_INLINE static inline __attribute__((always_inline))
#endif

/* Adds the change of one 16-bit word: ~old + new. At most 0x1fffe a call, so
 * a __u32 holds the changes of a few thousand words without overflow. */
XF_CSUM_INLINE __u32 xf_csum_acc16(__u32 acc, __u16 old_word, __u16 new_word)
{
	return acc + (__u16)~old_word + new_word;
}

/* Adds the change of one 32-bit word (an IPv4 address, a quarter of IPv6). */
XF_CSUM_INLINE __u32 xf_csum_acc32(__u32 acc, __u32 old_word, __u32 new_word)
{
	acc = xf_csum_acc16(acc, (__u16)(old_word >> 16), (__u16)(new_word >> 16));
	return xf_csum_acc16(acc, (__u16)old_word, (__u16)new_word);
}

/* Folds a 32-bit one's complement sum to 16 bits with end-around carry. */
XF_CSUM_INLINE __u16 xf_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The new checksum field value: ~(~old + sum of changes). */
XF_CSUM_INLINE __u16 xf_csum_apply(__u16 old_check, __u32 acc)
{
	__u32 sum = (__u16)~old_check;

	sum += xf_csum_fold(acc);
	return (__u16)~xf_csum_fold(sum);
}

/* UDP: a computed checksum of 0 is sent as 0xffff (RFC 768, RFC 8200 8.1),
 * because 0 means "no checksum" on IPv4 and is invalid on IPv6. */
XF_CSUM_INLINE __u16 xf_csum_apply_udp(__u16 old_check, __u32 acc)
{
	__u16 check = xf_csum_apply(old_check, acc);

	return check ? check : 0xffff;
}

#endif /* XDPFLOW_CSUM_H */
