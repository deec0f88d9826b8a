// KeepalivePass: what a periodic pass over the flow table does with each
// entry, stateless (decided from the entries' last hit alone): refreshes
// conntrack's timeout for connections whose entries were hit, when the
// KeepaliveSchedule says they are due, and removes connections idle for
// idle_timeout. An idle connection stays known compactly (core/idle_flows.h)
// so that FlowSync offloads it again when conntrack shows renewed activity.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/conntrack_writer.h"
#include "core/entry_pair_writer.h"
#include "core/flow_table.h"
#include "core/idle_flows.h"
#include "core/keepalive_schedule.h"

namespace xdpflow {

class KeepalivePass {
public:
  using Log = std::function<void(const std::string &line)>;
  // idle_timeout_ns: a connection neither of whose entries was hit for this
  // long leaves the table. interval_ns: see KeepaliveSchedule. logv: the
  // verbose log (idle removals); may be empty.
  KeepalivePass(FlowTable &table, EntryPairWriter &writer, ConntrackWriter &ct, IdleFlows &idle,
                std::uint64_t idle_timeout_ns, std::uint64_t interval_ns, Log logv);

  void set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec) {
    schedule_.set_ct_timeouts(tcp_sec, udp_sec);
  }
  // A pass: begin, visit every entry (visit may change the table, as
  // FlowTable::for_each_chunk allows), finish.
  void begin(std::uint64_t now_ns) { schedule_.begin_pass(now_ns); }
  void visit(const xf_flow_key &key, const xf_flow_value &value);
  void finish() {}

  std::uint64_t refreshes() const { return refreshes_; }
  std::uint64_t idle_removals() const { return idle_removals_; }

private:
  void idle_check(const xf_flow_key &key, const xf_flow_value &value, const FlowTuple &orig,
                  std::uint64_t hash);

  FlowTable &table_;
  EntryPairWriter &writer_;
  ConntrackWriter &ct_;
  IdleFlows &idle_;
  std::uint64_t idle_timeout_ns_;
  Log logv_;
  KeepaliveSchedule schedule_;
  std::uint64_t refreshes_ = 0;
  std::uint64_t idle_removals_ = 0;
};

} // namespace xdpflow
