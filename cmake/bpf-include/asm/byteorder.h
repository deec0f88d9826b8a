/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * asm/byteorder.h for BPF objects (cmake/BpfObject.cmake puts this first):
 * the byte order is the BPF target's (-target bpfel/bpfeb), not the one the
 * architecture's own header assumes. x86's is always little-endian (wrong for
 * a bpfeb object built on an x86 host) and mips's keys on __MIPSEB__, which
 * clang does not define for -target bpfeb (then struct iphdr has neither
 * bitfield order and no version/ihl).
 */
#ifndef XDPFLOW_BPF_ASM_BYTEORDER_H
#define XDPFLOW_BPF_ASM_BYTEORDER_H
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#include <linux/byteorder/big_endian.h>
#else
#include <linux/byteorder/little_endian.h>
#endif
#endif
