#!/usr/bin/env python3
"""Compares the offloadable subset of `conntrack -L` with `xdpflow flows --json`,
entry by entry.

  ct_vs_flows.py CONNTRACK_L_OUTPUT FLOWS_JSON

Offloadable (DESIGN.md "FlowSync"): TCP in ESTABLISHED with [ASSURED], UDP
with [ASSURED]; no helper, no zone, mark 0 (the tests exclude nothing else).
Each such entry must be in the table with both directions: the original
tuple and the reply tuple exactly as conntrack has them; and the table must
hold nothing else. Prints a summary line; exits 1 on any difference.
"""
import json
import re
import sys


def conntrack_entries(path):
    offloadable, other = {}, 0
    tuple_re = re.compile(r"src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)")
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0] not in ("tcp", "udp"):
                if words and words[0] not in ("conntrack",):
                    other += 1
                continue
            proto = words[0]
            tuples = tuple_re.findall(line)
            if len(tuples) != 2:
                other += 1
                continue
            orig = (proto,) + tuples[0]
            reply = (proto,) + tuples[1]
            ok = "[ASSURED]" in line and "helper=" not in line and "zone=" not in line
            if proto == "tcp":
                ok = ok and words[3] == "ESTABLISHED"
            m = re.search(r"mark=(\d+)", line)
            ok = ok and (m is None or m.group(1) == "0")
            if ok:
                offloadable[orig] = reply
            else:
                other += 1
    return offloadable, other


def table_entries(path):
    with open(path) as f:
        doc = json.load(f)
    conns, half = {}, []
    for c in doc["flows"]:
        o, r = c.get("original"), c.get("reply")
        if o is None or r is None:
            half.append(c)
            continue
        key = (c["proto"], o["src"], o["dst"], str(o["sport"]), str(o["dport"]))
        conns[key] = (c["proto"], r["src"], r["dst"], str(r["sport"]), str(r["dport"]))
    return conns, half


def main():
    ct, not_offloadable = conntrack_entries(sys.argv[1])
    table, half = table_entries(sys.argv[2])
    missing = [k for k in ct if k not in table]
    extra = [k for k in table if k not in ct]
    wrong = [k for k in ct if k in table and table[k] != ct[k]]
    print(
        f"conntrack: {len(ct)} offloadable + {not_offloadable} other; table: {len(table)} "
        f"connections + {len(half)} half; missing {len(missing)}, extra {len(extra)}, "
        f"wrong reply {len(wrong)}"
    )
    for name, items in (("missing", missing), ("extra", extra), ("wrong", wrong)):
        for k in items[:5]:
            print(f"  {name}: {k} table={table.get(k)} conntrack={ct.get(k)}")
    for c in half[:5]:
        print(f"  half: {c}")
    # With the number of connections the control plane reports waiting
    # (argv[3]): the connections missing from the table must be exactly
    # those. A connection is offloaded once the egress observer saw the
    # kernel forward it; conntrack entries created without packets wait.
    if len(sys.argv) > 3:
        waiting = int(sys.argv[3])
        print(f"waiting (status): {waiting}")
        sys.exit(1 if len(missing) != waiting or extra or wrong or half else 0)
    sys.exit(1 if missing or extra or wrong or half else 0)


if __name__ == "__main__":
    main()
