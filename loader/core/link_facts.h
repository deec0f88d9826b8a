// What attaching needs to know about a network device, read from an
// rtnetlink link message (RTM_NEWLINK / RTM_DELLINK): its kind, the bridge
// it is a port of, and the device below it (a VLAN's lower device). Pure:
// unit tests build the messages in memory, which is also how VLAN and PPP
// devices are tested on a kernel without 8021Q or PPP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct nlmsghdr;

namespace xdpflow {

struct LinkFact {
  std::uint32_t ifindex = 0;
  std::string name;
  std::string kind;              // IFLA_INFO_KIND: "bridge", "vlan", "ppp", "veth"; "" for a NIC
  std::uint32_t master = 0;      // IFLA_MASTER: the bridge (or bond) this is a port of
  std::uint32_t lower = 0;       // IFLA_LINK when it names another device (a VLAN's lower)
  bool lower_elsewhere = false;  // IFLA_LINK_NETNSID: `lower` is in another namespace
  std::uint32_t xdp_prog_id = 0; // IFLA_XDP: a program attached here (any mode)
  bool deleted = false;          // from an RTM_DELLINK
};

// The link described by an RTM_NEWLINK/RTM_DELLINK message of family
// AF_UNSPEC; nullopt for anything else (other types, the bridge's per-port
// AF_BRIDGE messages, truncated messages).
std::optional<LinkFact> parse_link_message(const nlmsghdr *nlh);

// The Ethernet devices PPPoE sessions run over, from /proc/net/pppoe
// ("Id Address Device" then one line per session), without repeats.
std::vector<std::string> parse_pppoe_devices(const std::string &proc_text);

} // namespace xdpflow
