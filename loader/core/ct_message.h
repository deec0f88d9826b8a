// Conntrack netlink messages (NETLINK_NETFILTER, subsystem CTNETLINK) as
// plain structs: parsing of events and dump replies, and building the few
// requests the control plane sends (dump, timeout refresh, TCP BE_LIBERAL).
// Pure: works on bytes, never touches a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/flow_key.h"

struct nlmsghdr;

namespace xdpflow {

enum class CtEventType { New, Update, Destroy };

// One conntrack entry as a message describes it. Attributes the message did
// not carry keep their "absent" value (has_* false, or nullopt).
struct CtEvent {
  CtEventType type = CtEventType::Update;
  bool from_dump = false;   // NLM_F_MULTI dump reply rather than an event
  FlowTuple orig, reply;    // ports host order; proto in both
  std::uint32_t status = 0; // IPS_* bits (linux/netfilter/nf_conntrack_common.h)
  bool has_status = false;
  std::optional<std::uint8_t> tcp_state; // enum tcp_conntrack, with CTA_PROTOINFO_TCP
  std::uint16_t zone = 0;                // CTA_ZONE or the tuple zone
  std::uint32_t mark = 0;                // absent = 0 (the kernel sends a non-zero mark always)
  bool has_helper = false;               // CTA_HELP with a helper name
  std::string helper;
  bool has_master = false;              // expected connection (CTA_TUPLE_MASTER)
  std::uint32_t id = 0;                 // CTA_ID, 0 = absent
  std::optional<std::uint32_t> timeout; // seconds left
};

enum class CtParseStatus {
  Ok,
  NotConntrack, // another nfnetlink subsystem/message (expectations...): ignore
  Malformed,    // truncated or invalid: count it, never trust any of it
};

struct CtParseResult {
  CtParseStatus status = CtParseStatus::Malformed;
  CtEvent event;
  std::string error; // with Malformed: what was wrong
};

// Parses one message; buf_len is how many bytes are really there from nlh
// (a header claiming more is Malformed).
CtParseResult parse_ct_message(const nlmsghdr *nlh, std::size_t buf_len);

// --- requests -----------------------------------------------------------

// Appends a nested tuple attribute (CTA_TUPLE_ORIG/REPLY/MASTER) for t.
void put_ct_tuple(nlmsghdr *nlh, std::uint16_t attr_type, const FlowTuple &t);

// Writes a "dump the whole table" request (IPv4 and IPv6) into buf, which
// must hold at least MNL_SOCKET_BUFFER_SIZE bytes. Returns the message.
nlmsghdr *build_ct_dump_request(void *buf, std::uint32_t seq);

// Update of an existing entry identified by its original tuple (zone 0):
// IPCTNL_MSG_CT_NEW without NLM_F_CREATE, so it never creates one. With
// timeout_sec: refresh the timeout. With be_liberal and TCP: set
// IP_CT_TCP_FLAG_BE_LIBERAL in both directions. Returns the message length.
struct CtUpdate {
  FlowTuple orig;
  std::optional<std::uint32_t> timeout_sec;
  bool be_liberal = false;
};
// buf needs ct_update_max_size() bytes free.
std::size_t build_ct_update(void *buf, std::uint32_t seq, const CtUpdate &update);
constexpr std::size_t ct_update_max_size() {
  return 256;
}

} // namespace xdpflow
