#!/usr/bin/env python3
"""Record, replay and compare TCP/UDP frames at the gateway's edges.

The differential fidelity test records the frames the client and the server
send during a real, scripted exchange, then replays exactly those frames into
the gateway twice (kernel path only, then with xdpflow) while capturing what
comes out at the other side, and compares the two captures byte by byte.

Interfaces are named LABEL=NETNS:IFNAME (e.g. client=xfgw123c:eth0); one
process opens AF_PACKET sockets in several namespaces (setns), so replay and
capture share one clock and one ordering.

  record  --iface ... --out FILE --stop-file F
          frames each interface SENDS, until F exists
  replay  --script FILE --iface ... --out FILE [--gap S] [--settle S]
          sends every recorded frame on its interface at its recorded time
          (at least --gap apart), capturing the frames each interface
          RECEIVES until --settle seconds after the last one
  compare A B
          per flow (interface + 5-tuple as captured), frame by frame; prints
          each difference field by field; exit 1 if there is any

Files are JSON lines: {"t": seconds, "if": label, "hex": frame}.
"""
import argparse
import ctypes
import json
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
CLONE_NEWNET = 0x40000000


def open_sockets(specs):
    """LABEL=NETNS:IF -> {label: (socket, ifname)}, one AF_PACKET socket per
    interface, each created inside its namespace."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    socks = {}
    try:
        for spec in specs:
            label, rest = spec.split("=", 1)
            ns, ifname = rest.split(":", 1)
            fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + ns)
            os.close(fd)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            s.bind((ifname, 0))
            socks[label] = (s, ifname)
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
    return socks


def l4_of(frame):
    """(proto, src, dst, sport, dport) of an IPv4/IPv6 TCP/UDP frame, else None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0F) * 4
        proto = frame[23]
        src, dst = socket.inet_ntop(socket.AF_INET, frame[26:30]), socket.inet_ntop(socket.AF_INET, frame[30:34])
        l4 = 14 + ihl
    elif etype == 0x86DD and len(frame) >= 54:
        proto = frame[20]
        src, dst = socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54])
        l4 = 54
    else:
        return None
    if proto not in (6, 17) or len(frame) < l4 + 4:
        return None
    sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
    return ("tcp" if proto == 6 else "udp", src, dst, sport, dport)


def frames_ready(socks, timeout):
    """Yields (label, frame, outgoing, kernel receive time in ns) for what
    the sockets hold within timeout; outgoing: sent by that interface."""
    by_fd = {s.fileno(): (label, s) for label, (s, _) in socks.items()}
    ready, _, _ = select.select(list(by_fd), [], [], max(0.0, timeout))
    for fd in ready:
        label, s = by_fd[fd]
        while True:
            try:
                data, anc, _, addr = s.recvmsg(65536, 64, socket.MSG_DONTWAIT)
            except (BlockingIOError, OSError):  # OSError: interface gone (namespace deleted)
                break
            t = time.time_ns()
            for level, kind, val in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", val[:16])
                    t = sec * 1000000000 + nsec
            yield label, data, addr[2] == PACKET_OUTGOING, t


def read_ready(socks, timeout, want_outgoing, out):
    """Reads what is ready within timeout; appends wanted TCP/UDP frames."""
    for label, data, outgoing, t in frames_ready(socks, timeout):
        if outgoing == want_outgoing and l4_of(data) is not None:
            out.append({"t": t / 1e9, "if": label, "hex": data.hex()})


def arrivals(socks, timeout, ports):
    """Yields (label, frame, l4, kernel receive time in ns) for the TCP/UDP
    frames that ARRIVED on the sockets (not those their interfaces sent)
    within timeout, whose source or destination port is in ports."""
    for label, data, outgoing, t in frames_ready(socks, timeout):
        l4 = l4_of(data)
        if not outgoing and l4 is not None and {l4[3], l4[4]} & ports:
            yield label, data, l4, t


def write(path, frames):
    frames.sort(key=lambda f: f["t"])
    t0 = frames[0]["t"] if frames else 0
    with open(path, "w") as f:
        for fr in frames:
            f.write(json.dumps({"t": round(fr["t"] - t0, 9), "if": fr["if"], "hex": fr["hex"]}) + "\n")


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def record(a):
    socks = open_sockets(a.iface)
    if a.ready:
        open(a.ready, "w").close()
    frames = []
    while not os.path.exists(a.stop_file):
        read_ready(socks, 0.05, True, frames)
    read_ready(socks, 0.2, True, frames)
    write(a.out, frames)
    print(json.dumps({"recorded": len(frames)}))


def replay(a):
    script = load(a.script)
    socks = open_sockets(a.iface)
    captured = []
    start = time.monotonic()
    due = 0.0
    for fr in script:
        due = max(fr["t"], due + a.gap)
        while True:
            left = start + due - time.monotonic()
            if left <= 0:
                break
            read_ready(socks, min(left, 0.01), False, captured)
        s, ifname = socks[fr["if"]]
        s.send(bytes.fromhex(fr["hex"]))
        read_ready(socks, 0, False, captured)
    end = time.monotonic() + a.settle
    while time.monotonic() < end:
        read_ready(socks, end - time.monotonic(), False, captured)
    write(a.out, captured)
    print(json.dumps({"replayed": len(script), "captured": len(captured),
                      "duration_s": round(time.monotonic() - start - a.settle, 3)}))


# --- comparison --------------------------------------------------------------

def fields(frame):
    """Named header fields of a frame, in wire order, for readable diffs."""
    f = [("eth.dst", frame[0:6].hex(":")), ("eth.src", frame[6:12].hex(":")),
         ("eth.type", frame[12:14].hex())]
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        tos, tot, ident, frag, ttl, proto, csum = struct.unpack("!xBHHHBBH", frame[14:26])
        f += [("ip.tos", tos), ("ip.len", tot), ("ip.id", ident), ("ip.frag", hex(frag)),
              ("ip.ttl", ttl), ("ip.proto", proto), ("ip.csum", hex(csum)),
              ("ip.src", socket.inet_ntop(socket.AF_INET, frame[26:30])),
              ("ip.dst", socket.inet_ntop(socket.AF_INET, frame[30:34]))]
        l4 = 14 + ihl
    else:
        vtcfl, plen, nxt, hlim = struct.unpack("!IHBB", frame[14:22])
        proto = nxt
        f += [("ip6.tc_flow", hex(vtcfl)), ("ip6.plen", plen), ("ip6.next", nxt), ("ip6.hlim", hlim),
              ("ip6.src", socket.inet_ntop(socket.AF_INET6, frame[22:38])),
              ("ip6.dst", socket.inet_ntop(socket.AF_INET6, frame[38:54]))]
        l4 = 54
    if proto == 6:
        sp, dp, seq, ack, off_flags, win, csum, urg = struct.unpack("!HHIIHHHH", frame[l4:l4 + 20])
        f += [("tcp.sport", sp), ("tcp.dport", dp), ("tcp.seq", seq), ("tcp.ack", ack),
              ("tcp.flags", hex(off_flags)), ("tcp.win", win), ("tcp.csum", hex(csum)), ("tcp.urg", urg),
              ("tcp.options+payload", frame[l4 + 20:].hex())]
    else:
        sp, dp, ln, csum = struct.unpack("!HHHH", frame[l4:l4 + 8])
        f += [("udp.sport", sp), ("udp.dport", dp), ("udp.len", ln), ("udp.csum", hex(csum)),
              ("udp.payload", frame[l4 + 8:].hex())]
    return f


def flows(frames):
    out = {}
    for fr in frames:
        b = bytes.fromhex(fr["hex"])
        key = (fr["if"],) + l4_of(b)
        out.setdefault(key, []).append(b)
    return out


def compare(a):
    fa, fb = flows(load(a.a)), flows(load(a.b))
    problems, compared, identical = [], 0, 0
    for key in sorted(set(fa) | set(fb), key=str):
        la, lb = fa.get(key, []), fb.get(key, [])
        name = "%s %s %s:%d -> %s:%d" % (key[0], key[1], key[2], key[4], key[3], key[5])
        if len(la) != len(lb):
            problems.append("%s: %d frames without xdpflow, %d with" % (name, len(la), len(lb)))
        for i, (x, y) in enumerate(zip(la, lb)):
            compared += 1
            if x == y:
                identical += 1
                continue
            diffs = ["%s %s != %s" % (n, v1, v2) for (n, v1), (_, v2) in zip(fields(x), fields(y)) if v1 != v2]
            if len(x) != len(y):
                diffs.append("length %d != %d" % (len(x), len(y)))
            problems.append("%s frame %d: %s" % (name, i, "; ".join(diffs) or "bytes differ"))
    print(json.dumps({"flows": len(set(fa) | set(fb)), "frames_compared": compared,
                      "identical": identical, "differences": len(problems)}))
    for p in problems[:40]:
        print("DIFF " + p)
    if len(problems) > 40:
        print("... %d more" % (len(problems) - 40))
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("record")
    m.add_argument("--iface", action="append", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--stop-file", required=True)
    m.add_argument("--ready")
    m = sub.add_parser("replay")
    m.add_argument("--script", required=True)
    m.add_argument("--iface", action="append", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--gap", type=float, default=0.0003)
    m.add_argument("--settle", type=float, default=1.0)
    m = sub.add_parser("compare")
    m.add_argument("a")
    m.add_argument("b")
    a = p.parse_args()
    if a.mode == "record":
        record(a)
    elif a.mode == "replay":
        replay(a)
    else:
        sys.exit(compare(a))


if __name__ == "__main__":
    main()
