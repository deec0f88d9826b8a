// libFuzzer harness for the XDP fast path: every input (fuzz_input.h: a
// control prefix, then a frame) goes through the REAL program with
// BPF_PROG_TEST_RUN, ingress on a real veth in a private network namespace,
// with no flow, the frame's own flow, or a near miss installed. The result is
// compared with the reference model (frame_model.h):
//   - the verdict is XDP_PASS or XDP_REDIRECT, and the one the model expects;
//   - REDIRECT only when the frame's key equals the installed key;
//   - PASS hands the kernel the frame exactly as it arrived;
//   - a REDIRECT output has the egress MACs/tags/PPPoE, the NAT'd addresses and
//     ports, TTL - 1, everything else unchanged, and re-parses as valid with
//     correct IPv4 header and L4 checksums (recomputed in full) when the input
//     had them;
//   - the global counters move exactly as expected (rx == fast + sum(slow)),
//     and so do the flow entry's packets/bytes.
// A violation prints the details and aborts, so libFuzzer saves the input.
#include <algorithm>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/bpf.h>
#include <net/if.h>
#include <optional>
#include <sched.h>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "core/map_key.h"
#include "frame_model.h"
#include "fuzz_input.h"
#include "kernel/fast_path.h"

using namespace xdpflow;
using namespace xdpflow::fuzz;

namespace {

constexpr std::size_t kMaxFrame = 2048;
constexpr std::uint8_t kSrcMac[6] = {0x02, 0x00, 0x00, 0x00, 0xfa, 0x01};
constexpr std::uint8_t kDstMac[6] = {0x02, 0x00, 0x00, 0x00, 0xfa, 0x02};
// The ingress interface's own MAC as the data path is told (the seeds'
// destination): frames to any other MAC never hit.
constexpr xdpflow::MacAddress kIfAMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

// libFuzzer treats these bytes as extra coverage: which (verdict/reason, flow
// mode) pairs the BPF program produced, since its own branches are invisible
// to the fuzzer's instrumentation.
__attribute__((used, section("__libfuzzer_extra_counters")))
std::uint8_t outcome_coverage[(XF_SLOW_MAX + 1) * 4];

struct Env {
  FastPath fast_path{FastPathOptions{.max_flows = 64}};
  std::uint32_t if_a = 0, if_b = 0; // the veth pair; both in the devmap
  int ncpus = 0;
  xf_counters expected{}; // running totals the program must match
  std::uint64_t execs = 0;
};
Env *env;

[[noreturn]] void fail(const std::string &what, const Bytes &in, const Bytes *out = nullptr) {
  std::fprintf(stderr, "\nPROPERTY VIOLATED: %s\ninput frame (%zu bytes):", what.c_str(),
               in.size());
  for (std::size_t i = 0; i < in.size(); i++)
    std::fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", in[i]);
  if (out) {
    std::fprintf(stderr, "\noutput frame (%zu bytes):", out->size());
    for (std::size_t i = 0; i < out->size(); i++)
      std::fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", (*out)[i]);
  }
  std::fprintf(stderr, "\n");
  std::abort();
}

void setup_namespace() {
  if (geteuid() != 0) {
    std::fprintf(stderr, "fuzz_packet: needs root (network namespace, BPF)\n");
    std::exit(1);
  }
  // A private, unnamed network namespace: it and its veth vanish with us.
  if (unshare(CLONE_NEWNET) != 0)
    throw SysError(errno, "unshare(CLONE_NEWNET)");
  if (std::system("ip link add xfh-fz0 type veth peer name xfh-fz1 && "
                  "ip link set xfh-fz0 up && ip link set xfh-fz1 up") != 0)
    throw RuntimeError("creating the veth pair in the private namespace failed");
}

xf_flow_action make_action(const Control &c, const ModelFrame &m) {
  xf_flow_action a{};
  switch (c.egress) {
  case Egress::IngressPort:
    a.egress_ifindex = env->if_a;
    break;
  case Egress::Peer:
  case Egress::PeerToo:
    a.egress_ifindex = env->if_b;
    break;
  case Egress::NotInDevmap:
    a.egress_ifindex = 1; // lo: never a redirect target
    break;
  }
  const std::uint16_t mtus[8] = {1500,
                                 65535,
                                 static_cast<std::uint16_t>(m.ip_len),
                                 static_cast<std::uint16_t>(m.ip_len - 1),
                                 0,
                                 576,
                                 9000,
                                 1280};
  a.mtu = mtus[c.mtu_choice & 7];
  a.nat = c.nat;
  a.encap.vlan_count = c.out_vlans;
  a.encap.vlan_id[0] = c.out_tag; // raw: the program must keep only the 12 VID bits
  a.encap.vlan_id[1] = static_cast<std::uint16_t>(c.out_tag * 7 + 1);
  a.encap.flags =
      (c.out_outer_8021ad ? XF_ENCAP_OUTER_8021AD : 0) | (c.out_pppoe ? XF_ENCAP_PPPOE : 0);
  a.encap.pppoe_sid = c.out_tag ^ 0x5a5a;
  std::memcpy(a.src_mac, kSrcMac, 6);
  std::memcpy(a.dst_mac, kDstMac, 6);
  const std::uint8_t *s = c.nat_seed;
  std::uint8_t v4src[4] = {198, 18, s[0], s[1]}, v4dst[4] = {198, 19, s[2], s[3]};
  if (m.key.family == XF_FAMILY_IPV4) {
    std::memcpy(a.new_src, v4src, 4);
    std::memcpy(a.new_dst, v4dst, 4);
  } else {
    std::uint8_t v6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, s[0], s[1], s[2], s[3]};
    std::memcpy(a.new_src, v6, 16);
    v6[5] = 1;
    v6[15] ^= s[4];
    std::memcpy(a.new_dst, v6, 16);
  }
  a.new_sport = static_cast<std::uint16_t>(s[0] << 8 | s[4]);
  a.new_dport = static_cast<std::uint16_t>(s[1] << 8 | s[3]);
  return a;
}

// A key that differs from the frame's in exactly one field.
// The same flow as the maps see it: the compact key of the key's family
// (fields a well-formed key leaves zero, such as VLAN IDs beyond the count or
// an IPv4 key's unused address words, are not part of it).
bool same_flow(const xf_flow_key &a, const xf_flow_key &b) {
  if (a.family != b.family)
    return false;
  if (a.family == XF_FAMILY_IPV4) {
    xf_flow_key4 ma = xdpflow::to_map_key4(a), mb = xdpflow::to_map_key4(b);
    return std::memcmp(&ma, &mb, sizeof(ma)) == 0;
  }
  xf_flow_key6 ma = xdpflow::to_map_key6(a), mb = xdpflow::to_map_key6(b);
  return std::memcmp(&ma, &mb, sizeof(ma)) == 0;
}

xf_flow_key near_miss(xf_flow_key k, std::uint8_t field) {
  switch (field % 12) {
  case 0:
    k.ifindex = env->if_b;
    break;
  case 1:
    k.encap.vlan_id[0] ^= 1;
    break;
  case 2:
    k.encap.vlan_count ^= 1;
    break;
  case 3:
    k.encap.flags ^= XF_ENCAP_OUTER_8021AD;
    break;
  case 4:
    k.encap.flags ^= XF_ENCAP_PPPOE;
    break;
  case 5:
    k.encap.pppoe_sid ^= 1;
    break;
  case 6:
    k.family = k.family == XF_FAMILY_IPV4 ? XF_FAMILY_IPV6 : XF_FAMILY_IPV4;
    break;
  case 7:
    k.proto ^= 6 ^ 17;
    break;
  case 8:
    k.src[0] ^= htonl(1);
    break;
  case 9:
    k.dst[3] ^= htonl(1);
    break;
  case 10:
    k.sport ^= htons(1);
    break;
  default:
    k.dport ^= htons(0x100);
    break;
  }
  return k;
}

struct Expectation {
  int verdict = XDP_PASS;
  int reason = XF_SLOW_MAX; // slow[] index with PASS
  bool redirect_error = false;
};

Expectation predict(const Bytes &frame, const ModelFrame &m,
                    const std::optional<xf_flow_key> &installed, const xf_flow_action &a) {
  if (m.reason != XF_SLOW_MAX)
    return {XDP_PASS, m.reason};
  if (!installed || !same_flow(*installed, m.key))
    return {XDP_PASS, XF_SLOW_NO_FLOW};
  if (!std::equal(kIfAMac.begin(), kIfAMac.end(), frame.begin()))
    return {XDP_PASS, XF_SLOW_NOT_FOR_US};
  if (m.key.family == XF_FAMILY_IPV4 && !ipv4_header_checksum_ok(frame, m))
    return {XDP_PASS, XF_SLOW_IP_CSUM};
  if (martian(m))
    return {XDP_PASS, XF_SLOW_MARTIAN};
  if (m.tcp_fin_rst)
    return {XDP_PASS, XF_SLOW_TCP_FIN_RST};
  if (m.ttl <= 1)
    return {XDP_PASS, XF_SLOW_TTL};
  if (m.ip_len > a.mtu)
    return {XDP_PASS, XF_SLOW_MTU};
  if (a.egress_ifindex != env->if_a && a.egress_ifindex != env->if_b)
    return {XDP_PASS, XF_SLOW_NO_EGRESS, true};
  return {XDP_REDIRECT, XF_SLOW_MAX};
}

// The egress L2 header the action asks for, byte by byte.
Bytes expected_l2(const xf_flow_action &a, const ModelFrame &m) {
  Bytes l2(kDstMac, kDstMac + 6);
  l2.insert(l2.end(), kSrcMac, kSrcMac + 6);
  auto put16 = [&](std::uint16_t v) {
    l2.push_back(static_cast<std::uint8_t>(v >> 8));
    l2.push_back(static_cast<std::uint8_t>(v));
  };
  for (int i = 0; i < a.encap.vlan_count; i++) {
    put16(i == 0 && (a.encap.flags & XF_ENCAP_OUTER_8021AD) ? 0x88a8 : 0x8100);
    put16(a.encap.vlan_id[i] & 0x0fff); // PCP 0, DEI 0
  }
  bool v4 = m.key.family == XF_FAMILY_IPV4;
  if (a.encap.flags & XF_ENCAP_PPPOE) {
    put16(0x8864);
    l2.push_back(0x11);
    l2.push_back(0x00);
    put16(a.encap.pppoe_sid);
    put16(static_cast<std::uint16_t>(m.ip_len + 2));
    put16(v4 ? 0x0021 : 0x0057);
  } else {
    put16(v4 ? 0x0800 : 0x86dd);
  }
  return l2;
}

void check_redirect_output(const Bytes &in, const ModelFrame &m, const xf_flow_action &a,
                           const Bytes &out) {
  Bytes want = expected_l2(a, m);
  std::size_t out_l2 = want.size();
  // The IP packet; bytes after it (an Ethernet trailer) are cut off, as
  // ip_rcv_core trims them.
  want.insert(want.end(), in.begin() + static_cast<long>(m.l2_len),
              in.begin() + static_cast<long>(m.l2_len + m.ip_len));
  // NAT, TTL: at fixed offsets from the IP header.
  std::size_t ip = out_l2, l4 = ip + m.ip_hdr_len;
  bool v4 = m.key.family == XF_FAMILY_IPV4;
  std::size_t addr_len = v4 ? 4 : 16, src = ip + (v4 ? 12 : 8), dst = src + addr_len;
  if (a.nat & XF_NAT_SRC_ADDR)
    std::memcpy(&want[src], a.new_src, addr_len);
  if (a.nat & XF_NAT_DST_ADDR)
    std::memcpy(&want[dst], a.new_dst, addr_len);
  if (a.nat & XF_NAT_SRC_PORT)
    std::memcpy(&want[l4], &a.new_sport, 2);
  if (a.nat & XF_NAT_DST_PORT)
    std::memcpy(&want[l4 + 2], &a.new_dport, 2);
  want[ip + (v4 ? 8 : 7)]--;
  if (out.size() != want.size())
    fail("REDIRECT output has " + std::to_string(out.size()) + " bytes, expected " +
             std::to_string(want.size()),
         in, &out);
  // Checksum fields are judged by recomputation below, the rest byte by byte.
  std::size_t l4_check = ip + l4_checksum_offset(m);
  for (std::size_t off : {v4 ? ip + 10 : l4_check, l4_check})
    for (std::size_t i = off; i < off + 2; i++)
      want[i] = out[i];
  for (std::size_t i = 0; i < want.size(); i++)
    if (want[i] != out[i])
      fail("REDIRECT output differs from the expected rewrite at byte " + std::to_string(i), in,
           &out);

  ModelFrame o = model_parse(out, m.key.ifindex);
  if (o.reason != XF_SLOW_MAX || o.l2_len != out_l2)
    fail("REDIRECT output does not re-parse as a valid frame (reason " + std::to_string(o.reason) +
             ")",
         in, &out);
  if (v4 && ipv4_header_checksum_ok(in, m) && !ipv4_header_checksum_ok(out, o))
    fail("REDIRECT output has a wrong IPv4 header checksum", in, &out);
  // UDP: "no checksum" (0) stays 0, as nf_nat leaves it; a real one never
  // becomes 0 (a computed 0 is sent as 0xffff).
  bool udp = m.key.proto == 17;
  bool udp_none = udp && be16(in, m.l2_len + l4_checksum_offset(m)) == 0;
  if (udp_none && be16(out, l4_check) != 0)
    fail("UDP without checksum got one", in, &out);
  if (udp && !udp_none && be16(out, l4_check) == 0)
    fail("UDP checksum became 0 (\"none\") after the rewrite", in, &out);
  if (l4_checksum_ok(in, m) && !l4_checksum_ok(out, o))
    fail("REDIRECT output has a wrong L4 checksum", in, &out);
}

xf_counters read_counters() {
  std::vector<xf_counters> per_cpu(static_cast<std::size_t>(env->ncpus));
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(env->fast_path.counters_fd(), &zero, per_cpu.data()))
    throw SysError(errno, "reading xf_counters");
  xf_counters sum{};
  for (const auto &c : per_cpu) {
    sum.rx_packets += c.rx_packets;
    sum.fast_packets += c.fast_packets;
    sum.fast_bytes += c.fast_bytes;
    sum.redirect_errors += c.redirect_errors;
    for (int r = 0; r < XF_SLOW_MAX; r++)
      sum.slow[r] += c.slow[r];
  }
  return sum;
}

void check_counters(const Bytes &in) {
  xf_counters got = read_counters();
  const xf_counters &want = env->expected;
  std::uint64_t slow = 0;
  for (int r = 0; r < XF_SLOW_MAX; r++) {
    slow += got.slow[r];
    if (got.slow[r] != want.slow[r])
      fail("slow[" + std::to_string(r) + "] = " + std::to_string(got.slow[r]) + ", expected " +
               std::to_string(want.slow[r]),
           in);
  }
  if (got.rx_packets != got.fast_packets + slow)
    fail("rx_packets != fast_packets + sum(slow)", in);
  if (got.rx_packets != want.rx_packets || got.fast_packets != want.fast_packets ||
      got.fast_bytes != want.fast_bytes || got.redirect_errors != want.redirect_errors)
    fail("rx/fast/bytes/redirect_errors counters differ from the expected totals", in);
}

// At exit: what the inputs did, so a run shows it exercised the fast path.
void print_outcomes() {
  const xf_counters &c = env->expected;
  std::fprintf(stderr, "fuzz_packet outcomes: %llu frames, %llu redirected, slow:",
               static_cast<unsigned long long>(c.rx_packets),
               static_cast<unsigned long long>(c.fast_packets));
  for (int r = 0; r < XF_SLOW_MAX; r++)
    std::fprintf(stderr, " [%d]=%llu", r, static_cast<unsigned long long>(c.slow[r]));
  std::fprintf(stderr, "\n");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  try {
    setup_namespace();
    env = new Env;
    env->if_a = if_nametoindex("xfh-fz0");
    env->if_b = if_nametoindex("xfh-fz1");
    if (!env->if_a || !env->if_b)
      throw SysError(errno, "if_nametoindex(xfh-fz0/1)");
    env->fast_path.add_interface(env->if_a, kIfAMac);
    env->fast_path.add_egress(env->if_b);
    env->ncpus = libbpf_num_possible_cpus();
    if (env->ncpus <= 0)
      throw SysError(-env->ncpus, "libbpf_num_possible_cpus");
    std::atexit(print_outcomes);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "fuzz_packet setup: %s\n", e.what());
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  // PROG_TEST_RUN refuses frames shorter than an Ethernet header.
  if (size < kControlLen + 14 || size > kControlLen + kMaxFrame)
    return -1;
  Control c = Control::decode(data);
  Bytes frame(data + kControlLen, data + size);
  ModelFrame m = model_parse(frame, env->if_a);
  if (c.fix_checksums && m.reason == XF_SLOW_MAX)
    fix_checksums(frame, m);

  std::optional<xf_flow_key> installed;
  xf_flow_value value{};
  if (c.flow != FlowMode::None && m.reason == XF_SLOW_MAX) {
    installed = c.flow == FlowMode::NearMiss ? near_miss(m.key, c.near_miss_field) : m.key;
    value.action = make_action(c, m);
    if (env->fast_path.flow_maps().update(*installed, value, BPF_ANY))
      fail("installing the flow entry: " + std::string(std::strerror(errno)), frame);
  }
  Expectation want = predict(frame, m, installed, value.action);

  // The clock the control plane would publish; a hit is stamped with it.
  static std::uint64_t clock = 0;
  env->fast_path.publish_clock(++clock);

  Bytes out(frame.size() + 64);
  xdp_md md{};
  md.data_end = static_cast<__u32>(frame.size());
  md.ingress_ifindex = env->if_a;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<__u32>(frame.size()),
              .data_size_out = static_cast<__u32>(out.size()), .ctx_in = &md,
              .ctx_size_in = sizeof(md), .repeat = 1);
  if (bpf_prog_test_run_opts(env->fast_path.prog_fd(), &opts))
    fail("BPF_PROG_TEST_RUN: " + std::string(std::strerror(errno)), frame);
  out.resize(opts.data_size_out);
  int verdict = static_cast<int>(opts.retval);

  int outcome = verdict == XDP_REDIRECT ? XF_SLOW_MAX : want.reason;
  outcome_coverage[outcome * 4 + static_cast<int>(c.flow)]++;

  if (verdict != XDP_PASS && verdict != XDP_REDIRECT)
    fail("verdict " + std::to_string(verdict) + " (only PASS or REDIRECT allowed)", frame, &out);
  if (verdict == XDP_REDIRECT && !installed)
    fail("REDIRECT with no flow installed", frame, &out);
  if (verdict == XDP_REDIRECT && !same_flow(*installed, m.key))
    fail("REDIRECT for a frame whose key does not match the installed flow", frame, &out);
  if (verdict != want.verdict)
    fail("verdict " + std::to_string(verdict) + ", model expects " + std::to_string(want.verdict) +
             " (reason " + std::to_string(want.reason) + ")",
         frame, &out);

  env->expected.rx_packets++;
  if (verdict == XDP_PASS) {
    env->expected.slow[want.reason]++;
    if (want.redirect_error)
      env->expected.redirect_errors++;
    if (out != frame)
      fail("XDP_PASS handed the kernel a modified frame", frame, &out);
  } else {
    env->expected.fast_packets++;
    env->expected.fast_bytes += frame.size();
    check_redirect_output(frame, m, value.action, out);
  }
  check_counters(frame);

  if (installed) {
    xf_flow_value after{};
    if (env->fast_path.flow_maps().lookup(*installed, after))
      fail("flow entry vanished: " + std::string(std::strerror(errno)), frame);
    bool hit = verdict == XDP_REDIRECT;
    if (after.packets != (hit ? 1u : 0u) || after.bytes != (hit ? frame.size() : 0u) ||
        after.last_seen_ns != (hit ? clock : 0u))
      fail("flow entry packets/bytes/last_seen wrong after " +
               std::string(hit ? "a hit" : "no hit"),
           frame, &out);
    if (env->fast_path.flow_maps().remove(*installed))
      fail("removing the flow entry: " + std::string(std::strerror(errno)), frame);
  }
  env->execs++;
  return 0;
}
