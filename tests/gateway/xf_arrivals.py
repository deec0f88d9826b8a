#!/usr/bin/env python3
"""When frames arrive, and where: for the invalidation tests that measure how
long traffic takes to follow a change (a neighbour's new MAC, a station on
another bridge port, a new route).

  watch --iface LABEL=NETNS:IF ... --ports P,P --out FILE --stop-file F
        [--ready F] [--mark F [--until REGEX... --timeout S]]
      every TCP/UDP frame ARRIVING on those interfaces (not those they send)
      whose source or destination port is one of --ports, grouped by
      "LABEL dst-MAC src-IP>dst-IP". The mark file, when it exists at the
      end, holds the CLOCK_REALTIME nanoseconds of the change (written by
      the test just before it makes the change: `date +%s%N`). Written as
      JSON when the stop file appears:
        {group: {"count", "first_ns", "last_ns", "after_mark",
                 "first_after_mark_ns"}}
      (times CLOCK_REALTIME ns, the kernel's receive timestamps).
      --until (repeatable): also stops 0.5 s after frames arrived, after the
      mark, in groups matching each REGEX, or --timeout seconds after
      the mark.
  follow FILE --to REGEX
      the milliseconds from the mark to the first frame after it in a group
      matching REGEX (e.g. the new MAC, "^wan1 "), and how many frames
      arrived after the mark in the other groups; prints "MS OTHERS", or
      "-1 OTHERS" when no such frame came.
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xf_replay import arrivals, open_sockets  # noqa: E402


def watch(a):
    ports = {int(p) for p in a.ports.split(",")}
    socks = open_sockets(a.iface)
    if a.ready:
        open(a.ready, "w").close()
    times = {}

    def drain(timeout):
        # The kernel's arrival times: a watcher slowed by a loaded machine
        # reads late, but dates each frame right.
        for label, data, l4, t in arrivals(socks, timeout, ports):
            group = "%s %s %s>%s" % (label, data[0:6].hex(":"), l4[1], l4[2])
            times.setdefault(group, []).append(t)

    mark = None
    end = None
    while not os.path.exists(a.stop_file) and (end is None or time.time_ns() < end):
        drain(0.01)
        if not a.until:
            continue
        if mark is None and os.path.exists(a.mark):
            try:
                mark = int(open(a.mark).read().split()[0])
                end = mark + int(a.timeout * 1e9)
            except (ValueError, IndexError):  # being written
                continue
        if mark is not None and all(any(re.search(u, g) and ts[-1] >= mark for g, ts in times.items())
                                    for u in a.until):
            end = min(end, time.time_ns() + 500000000)
    drain(0.2)
    mark = None
    if a.mark and os.path.exists(a.mark):
        mark = int(open(a.mark).read().split()[0])
    out = {}
    for group, ts in times.items():
        after = [t for t in ts if mark is not None and t >= mark]
        out[group] = {"count": len(ts), "first_ns": ts[0], "last_ns": ts[-1],
                      "after_mark": len(after), "first_after_mark_ns": after[0] if after else None,
                      "mark_ns": mark}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


def follow(a):
    groups = json.load(open(a.file))
    first, others = None, 0
    for group, g in groups.items():
        if re.search(a.to, group) and g["first_after_mark_ns"] is not None:
            ms = (g["first_after_mark_ns"] - g["mark_ns"]) // 1000000
            first = ms if first is None else min(first, ms)
        elif not re.search(a.to, group):
            others += g["after_mark"]
    print("%d %d" % (-1 if first is None else first, others))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("watch")
    m.add_argument("--iface", action="append", required=True)
    m.add_argument("--ports", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--stop-file", required=True)
    m.add_argument("--ready")
    m.add_argument("--mark")
    m.add_argument("--until", action="append")
    m.add_argument("--timeout", type=float, default=30)
    m = sub.add_parser("follow")
    m.add_argument("file")
    m.add_argument("--to", required=True)
    a = p.parse_args()
    return watch(a) if a.mode == "watch" else follow(a)


if __name__ == "__main__":
    sys.exit(main())
