#!/usr/bin/env python3
"""Many UDP connections with real packets in both directions through the
gateway, for measurements that need a full table learned the way xdpflow
learns it (conntrack events and the egress observer see real packets):
scripts/invalidation-cost.

  rounds --client LABEL=NETNS:IF --server LABEL=NETNS:IF
         --client-mac M --gw-lan-mac M --server-mac M --gw-wan-mac M
         --client-addr A --server-addr A --nat-addr A --flows N
         --at SECONDS,SECONDS... [--pps N]
      at each offset (from the start), flow i = client-addr:(10000 + i %
      50000) -> server-addr:(5801 + i / 50000) sends one datagram from the
      client's interface, then each flow's reply comes from the server's
      interface, addressed to the masquerade address and the same port (the
      gateway keeps a masqueraded source port when it is free, as it is for
      these). Frames are paced at --pps (default 40000): a veth has no
      queue to absorb a burst. The ends need an input rule dropping these
      datagrams (no ICMP port unreachable back). Prints {"frames": sent}.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xf_replay import open_sockets  # noqa: E402


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src_mac, dst_mac, src, dst, sport, dport):
    payload = b"xdpflow-flows..."
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


def flow_ports(i):
    return 10000 + i % 50000, 5801 + i // 50000


def rounds(a):
    socks = open_sockets([a.client, a.server])
    client = socks[a.client.split("=")[0]][0]
    server = socks[a.server.split("=")[0]][0]
    mac = {k: bytes.fromhex(getattr(a, k).replace(":", ""))
           for k in ("client_mac", "gw_lan_mac", "server_mac", "gw_wan_mac")}
    orig, reply = [], []
    for i in range(a.flows):
        sport, dport = flow_ports(i)
        orig.append(frame(mac["client_mac"], mac["gw_lan_mac"], a.client_addr, a.server_addr, sport, dport))
        reply.append(frame(mac["server_mac"], mac["gw_wan_mac"], a.server_addr, a.nat_addr, dport, sport))
    start = time.monotonic()
    sent = 0
    for at in (float(x) for x in a.at.split(",")):
        delay = start + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for sock, frames in ((client, orig), (server, reply)):
            t0 = time.monotonic()
            for n, f in enumerate(frames):
                if n % 200 == 0:
                    ahead = t0 + n / a.pps - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                while True:
                    try:
                        sock.send(f)
                        break
                    except BlockingIOError:
                        time.sleep(0.0005)
                sent += 1
    print(json.dumps({"frames": sent, "seconds": round(time.monotonic() - start, 3)}), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("rounds")
    for name in ("client", "server", "client-mac", "gw-lan-mac", "server-mac", "gw-wan-mac",
                 "client-addr", "server-addr", "nat-addr", "at"):
        m.add_argument("--" + name, required=True)
    m.add_argument("--flows", type=int, required=True)
    m.add_argument("--pps", type=float, default=40000)
    a = p.parse_args()
    return rounds(a)


if __name__ == "__main__":
    sys.exit(main())
