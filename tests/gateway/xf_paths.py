#!/usr/bin/env python3
"""Which way each connection's packets arrive: for the topology tests
(multi-WAN, ECMP, bridged LAN), where the question is not the bytes of a
frame but the path the gateway sent it on.

  record --iface LABEL=NETNS:IF ... --ports P,P --out FILE --stop-file F [--ready F]
      every TCP/UDP frame arriving on those interfaces (not the ones they
      send) whose source or destination port is one of --ports (the
      services), summarized per connection: {conn: {path: count}} where
      conn = "proto service-port other-port" and path = "LABEL eth.src>eth.dst
      ip.src>ip.dst". Written as JSON when the stop file appears.
  check FILE --ports P,P
      every connection arrived on exactly one path per direction (its first
      packets, forwarded by the kernel, and all the others agree); prints
      the paths, exit 1 otherwise.
  same A B
      the set of paths per service port is the same in both recordings
      (the kernel path's run and xdpflow's); exit 1 otherwise.
"""
import argparse
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xf_replay import arrivals, open_sockets  # noqa: E402


def ip_of(frame):
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800:
        return socket.inet_ntop(socket.AF_INET, frame[26:30]), socket.inet_ntop(socket.AF_INET, frame[30:34])
    return socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54])


def record(a):
    ports = {int(p) for p in a.ports.split(",")}
    socks = open_sockets(a.iface)
    if a.ready:
        open(a.ready, "w").close()
    conns = {}

    def drain(timeout):
        for label, data, l4, _ in arrivals(socks, timeout, ports):
            proto, _, _, sport, dport = l4
            if dport in ports:
                service, other, direction = dport, sport, "to-service"
            else:
                service, other, direction = sport, dport, "from-service"
            src, dst = ip_of(data)
            conn = "%s %d %d %s" % (proto, service, other, direction)
            path = "%s %s>%s %s>%s" % (label, data[6:12].hex(":"), data[0:6].hex(":"), src, dst)
            d = conns.setdefault(conn, {})
            d[path] = d.get(path, 0) + 1

    while not os.path.exists(a.stop_file):
        drain(0.05)
    drain(0.3)
    with open(a.out, "w") as f:
        json.dump(conns, f, indent=1, sort_keys=True)


def check(a):
    conns = json.load(open(a.file))
    bad = 0
    for conn, paths in sorted(conns.items()):
        total = sum(paths.values())
        if len(paths) != 1:
            bad += 1
            print("SPLIT %s: %s" % (conn, "; ".join("%s x%d" % (p, n) for p, n in sorted(paths.items()))))
        else:
            (p, n), = paths.items()
            print("PATH %s: %s x%d" % (conn, p, total))
    return 1 if bad or not conns else 0


def service_paths(conns):
    out = {}
    for conn, paths in conns.items():
        proto, service, _, direction = conn.split()
        out.setdefault("%s %s %s" % (proto, service, direction), set()).update(paths)
    return out


def same(a):
    ka, kb = service_paths(json.load(open(a.a))), service_paths(json.load(open(a.b)))
    bad = 0
    for s in sorted(set(ka) | set(kb)):
        pa, pb = sorted(ka.get(s, [])), sorted(kb.get(s, []))
        if pa != pb:
            bad += 1
            print("DIFF %s: kernel path %s, xdpflow %s" % (s, pa, pb))
        else:
            print("SAME %s: %s" % (s, pa))
    return 1 if bad or not ka else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("record")
    m.add_argument("--iface", action="append", required=True)
    m.add_argument("--ports", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--stop-file", required=True)
    m.add_argument("--ready")
    m = sub.add_parser("check")
    m.add_argument("file")
    m = sub.add_parser("same")
    m.add_argument("a")
    m.add_argument("b")
    a = p.parse_args()
    if a.mode == "record":
        record(a)
        return 0
    return check(a) if a.mode == "check" else same(a)


if __name__ == "__main__":
    sys.exit(main())
