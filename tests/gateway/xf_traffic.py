#!/usr/bin/env python3
"""Traffic endpoints for the namespace gateway tests.

Every mode prints one JSON object on stdout when it finishes, so a shell test
can compare what was sent with what arrived (SHA-256 of the payload) and read
timings without parsing free text.

  tcp-sink   --port P [--bind A] [--ready FILE] [--count N] [--progress FILE]
             accept N connections (default 1), read each to EOF
             (concurrently); prints {"bytes", "sha256", "max_gap_s",
             "duration_s", "peer", "reset"} per connection (one line each). max_gap_s is the
             longest pause between two received chunks after the first byte:
             the stall a user would see. --progress: bytes received so far,
             rewritten into FILE every 0.1 s.
  tcp-source --to A --port P --bytes N [--rate BYTES_PER_S] [--sport S]
             [--bind A] [--rst] [--hold S] [--go FILE]
             connect (then wait until FILE exists, with --go), send N bytes
             of random payload (paced if --rate), then close (FIN, or RST with --rst, after --hold seconds idle);
             prints {"bytes", "sha256", "duration_s", "local"}.
  udp-echo   --port P [--bind A] [--ready FILE] [--idle S]
             echo every datagram back until idle for S seconds after the first
             (default 5; the first is awaited up to 60 s);
             prints {"datagrams", "peers"}.
  udp-client --to A --port P --count N [--interval S] [--size B] [--sport S]
             [--pause-after-first S] [--no-check]
             send N datagrams with sequence numbers, count echoed replies;
             --pause-after-first: wait S seconds after the first datagram
             (conntrack marks UDP ASSURED only after 2 s); --no-check: IPv4
             UDP checksum 0 (SO_NO_CHECK);
             prints {"sent", "received", "local"}.
"""
import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 64 * 1024


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def ready(path):
    if path:
        with open(path, "w") as f:
            f.write("ready\n")


EMIT_LOCK = threading.Lock()


def emit(obj):
    with EMIT_LOCK:
        print(json.dumps(obj), flush=True)


def write_progress(path, total):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % total)
    os.replace(path + ".tmp", path)


def tcp_sink(a):
    fam = family_of(a.bind)
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(8)
    ready(a.ready)
    threads = []
    for _ in range(a.count):
        conn, peer = srv.accept()
        # Connections are served concurrently, so one sink can take several
        # simultaneous flows (e.g. the IPv4 and IPv6 port-forwards).
        t = threading.Thread(target=sink_one, args=(a, conn, peer))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def sink_one(a, conn, peer):
    h = hashlib.sha256()
    total, max_gap, reset = 0, 0.0, False
    start = last = None
    written = 0.0
    while True:
        if a.progress and time.monotonic() - written >= 0.1:
            write_progress(a.progress, total)
            written = time.monotonic()
        try:
            data = conn.recv(CHUNK)
        except ConnectionResetError:
            reset = True
            break
        now = time.monotonic()
        if not data:
            break
        if last is not None:
            max_gap = max(max_gap, now - last)
        else:
            start = now
        last = now
        total += len(data)
        h.update(data)
    conn.close()
    if a.progress:
        write_progress(a.progress, total)
    emit({"bytes": total, "sha256": h.hexdigest(), "max_gap_s": round(max_gap, 4),
          "duration_s": round((last - start) if start else 0.0, 4),
          "peer": "%s:%d" % peer[:2], "reset": reset})


def tcp_source(a):
    fam = family_of(a.to)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.sport or a.bind:
        s.bind((a.bind or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), a.sport))
    s.settimeout(10)
    s.connect((a.to, a.port))
    s.settimeout(None)
    local = "%s:%d" % s.getsockname()[:2]
    if a.go:
        print(json.dumps({"connected": local}), file=sys.stderr, flush=True)
        while not os.path.exists(a.go):
            time.sleep(0.01)
    block = os.urandom(1 << 20)
    h = hashlib.sha256()
    sent = 0
    start = time.monotonic()
    step = CHUNK if a.rate else len(block)
    while sent < a.bytes:
        off = sent % len(block)
        n = min(step, a.bytes - sent, len(block) - off)
        piece = block[off:off + n]
        s.sendall(piece)
        h.update(piece)
        sent += n
        if a.rate:
            ahead = sent / a.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    duration = time.monotonic() - start
    if a.hold:
        time.sleep(a.hold)
    if a.rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    else:
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        while s.recv(CHUNK):
            pass
        s.close()
    emit({"bytes": sent, "sha256": h.hexdigest(), "duration_s": round(duration, 4),
          "local": local})


def udp_echo(a):
    fam = family_of(a.bind)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    # The first datagram may take a while on a loaded machine (the clients
    # are processes started after this one is ready): idleness counts from
    # it, not from start.
    s.settimeout(max(a.idle, 60))
    ready(a.ready)
    count, peers = 0, set()
    while True:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            break
        s.settimeout(a.idle)
        count += 1
        peers.add("%s:%d" % peer[:2])
        s.sendto(data, peer)
    emit({"datagrams": count, "peers": sorted(peers)})


def udp_client(a):
    fam = family_of(a.to)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", a.sport))
    if a.no_check:
        s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK
    s.connect((a.to, a.port))
    s.setblocking(False)
    pad = os.urandom(max(0, a.size - 8))
    received = set()
    next_send = time.monotonic()
    sent = 0
    deadline = None
    while True:
        now = time.monotonic()
        if sent < a.count and now >= next_send:
            s.send(struct.pack("!Q", sent) + pad)
            sent += 1
            next_send += a.interval
            if sent == 1:
                next_send += a.pause_after_first
            if sent == a.count:
                deadline = now + 2.0
        try:
            while True:
                data = s.recv(65535)
                if len(data) >= 8:
                    received.add(struct.unpack("!Q", data[:8])[0])
        except (BlockingIOError, ConnectionRefusedError):
            pass
        if deadline and (len(received) >= a.count or now >= deadline):
            break
        time.sleep(min(0.001, a.interval / 4) if a.interval else 0)
    emit({"sent": sent, "received": len(received), "local": "%s:%d" % s.getsockname()[:2]})


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("tcp-sink")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--bind", default="::")
    m.add_argument("--ready")
    m.add_argument("--count", type=int, default=1)
    m.add_argument("--progress")
    m = sub.add_parser("tcp-source")
    m.add_argument("--to", required=True)
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--bytes", type=int, required=True)
    m.add_argument("--rate", type=float, default=0)
    m.add_argument("--sport", type=int, default=0)
    m.add_argument("--bind")
    m.add_argument("--rst", action="store_true")
    m.add_argument("--hold", type=float, default=0)
    m.add_argument("--go")
    m = sub.add_parser("udp-echo")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--bind", default="::")
    m.add_argument("--ready")
    m.add_argument("--idle", type=float, default=5)
    m = sub.add_parser("udp-client")
    m.add_argument("--to", required=True)
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--interval", type=float, default=0.01)
    m.add_argument("--size", type=int, default=64)
    m.add_argument("--sport", type=int, default=0)
    m.add_argument("--pause-after-first", type=float, default=0)
    m.add_argument("--no-check", action="store_true")
    a = p.parse_args()
    {"tcp-sink": tcp_sink, "tcp-source": tcp_source, "udp-echo": udp_echo,
     "udp-client": udp_client}[a.mode](a)


if __name__ == "__main__":
    try:
        main()
    except (OSError, socket.timeout) as e:
        print("xf_traffic: %s" % e, file=sys.stderr)
        sys.exit(1)
