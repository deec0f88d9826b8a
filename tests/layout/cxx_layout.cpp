#include "cxx_layout.h"

#include <sstream>
#include <stdexcept>

#include "xdpflow/flow.h"

#include <type_traits>

// Copied byte for byte to and from the maps.
template <class... T>
constexpr bool kPlainData = ((std::is_standard_layout_v<T> &&
                              std::is_trivially_copyable_v<T>)&&...);
static_assert(kPlainData<xf_encap, xf_flow_key, xf_key_head, xf_flow_key4, xf_flow_key6,
                         xf_flow_action, xf_flow_value, xf_counters, xf_iface, xf_status>);

#define XF_M(type, member)                                                                         \
  MemberLayout {                                                                                   \
#member, offsetof(type, member), sizeof(type::member)                                          \
  }

std::vector<StructLayout> cxx_layout() {
  return {
      {"xf_encap",
       sizeof(xf_encap),
       {XF_M(xf_encap, vlan_id), XF_M(xf_encap, pppoe_sid), XF_M(xf_encap, vlan_count),
        XF_M(xf_encap, flags)}},
      {"xf_flow_key",
       sizeof(xf_flow_key),
       {XF_M(xf_flow_key, ifindex), XF_M(xf_flow_key, encap), XF_M(xf_flow_key, family),
        XF_M(xf_flow_key, proto), XF_M(xf_flow_key, pad), XF_M(xf_flow_key, src),
        XF_M(xf_flow_key, dst), XF_M(xf_flow_key, sport), XF_M(xf_flow_key, dport)},
       true},
      {"xf_key_head",
       sizeof(xf_key_head),
       {XF_M(xf_key_head, ifindex), XF_M(xf_key_head, vlan_id), XF_M(xf_key_head, pppoe_sid),
        XF_M(xf_key_head, proto), XF_M(xf_key_head, encap)}},
      {"xf_flow_key4",
       sizeof(xf_flow_key4),
       {XF_M(xf_flow_key4, head), XF_M(xf_flow_key4, src), XF_M(xf_flow_key4, dst),
        XF_M(xf_flow_key4, sport), XF_M(xf_flow_key4, dport)}},
      {"xf_flow_key6",
       sizeof(xf_flow_key6),
       {XF_M(xf_flow_key6, head), XF_M(xf_flow_key6, src), XF_M(xf_flow_key6, dst),
        XF_M(xf_flow_key6, sport), XF_M(xf_flow_key6, dport)}},
      {"xf_flow_action",
       sizeof(xf_flow_action),
       {XF_M(xf_flow_action, egress_ifindex), XF_M(xf_flow_action, mtu), XF_M(xf_flow_action, nat),
        XF_M(xf_flow_action, direction), XF_M(xf_flow_action, encap), XF_M(xf_flow_action, src_mac),
        XF_M(xf_flow_action, dst_mac), XF_M(xf_flow_action, new_src), XF_M(xf_flow_action, new_dst),
        XF_M(xf_flow_action, new_sport), XF_M(xf_flow_action, new_dport)}},
      {"xf_flow_value",
       sizeof(xf_flow_value),
       {XF_M(xf_flow_value, action), XF_M(xf_flow_value, packets), XF_M(xf_flow_value, bytes),
        XF_M(xf_flow_value, last_seen_ns), XF_M(xf_flow_value, flags), XF_M(xf_flow_value, ct_id),
        XF_M(xf_flow_value, action_check)}},
      {"xf_counters",
       sizeof(xf_counters),
       {XF_M(xf_counters, rx_packets), XF_M(xf_counters, fast_packets),
        XF_M(xf_counters, fast_bytes), XF_M(xf_counters, redirect_errors), XF_M(xf_counters, slow),
        XF_M(xf_counters, pad)}},
      {"xf_iface",
       sizeof(xf_iface),
       {XF_M(xf_iface, ifindex), XF_M(xf_iface, mac), XF_M(xf_iface, pad)}},
      {"xf_status",
       sizeof(xf_status),
       {XF_M(xf_status, pid), XF_M(xf_status, max_flows), XF_M(xf_status, started_ns),
        XF_M(xf_status, heartbeat_ns), XF_M(xf_status, last_ct_event_ns),
        XF_M(xf_status, ct_events), XF_M(xf_status, resyncs), XF_M(xf_status, parse_errors),
        XF_M(xf_status, flows_offloaded), XF_M(xf_status, rejected_full),
        XF_M(xf_status, offloads_total), XF_M(xf_status, removals_total),
        XF_M(xf_status, keepalive_refreshes), XF_M(xf_status, events_lost), XF_M(xf_status, pad)}},
  };
}

std::string layout_text(const std::vector<StructLayout> &layout) {
  std::ostringstream out;
  for (const auto &s : layout) {
    out << "struct " << s.name << " " << s.size << (s.loader_only ? " loader_only" : "") << "\n";
    for (const auto &m : s.members)
      out << "member " << m.name << " " << m.offset << " " << m.size << "\n";
  }
  return out.str();
}

std::vector<StructLayout> parse_layout_text(const std::string &text) {
  std::vector<StructLayout> layout;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string kind, name, flag;
    if (!(f >> kind >> name))
      continue;
    if (kind == "struct") {
      StructLayout s{name, 0, {}};
      f >> s.size >> flag;
      s.loader_only = flag == "loader_only";
      layout.push_back(s);
    } else if (kind == "member" && !layout.empty()) {
      MemberLayout m{name, 0, 0};
      f >> m.offset >> m.size;
      layout.back().members.push_back(m);
    } else {
      throw std::runtime_error("bad layout line: " + line);
    }
  }
  return layout;
}
