// What the observer and invalidation publish (xf_obs_status, xf_obs_pending),
// as `xdpflow status` lines and `xdpflow flows --pending` rows. Pure.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/flow_key.h"
#include "core/json.h"
#include "xdpflow/observer.h"

namespace xdpflow {

using IfName = std::function<std::string(std::uint32_t ifindex)>;

// JSON-style names: not_observed, not_attached, cannot_reproduce, ...
const char *wait_reason_key(std::uint8_t reason);
const char *wait_field_name(std::uint32_t field);
const char *invalidation_key(int cause);
// "egress not attached (wan1)", "rewrite cannot reproduce the kernel's frame (tos)"
std::string describe_wait(const xf_pending &p, const IfName &names);

struct PendingConnection {
  FlowTuple orig;
  xf_pending info;
};

// Lines for `status` (text), and the object for `status --json`.
std::string observer_status_text(const xf_obs_status &s);
void observer_status_json(JsonWriter &j, const xf_obs_status &s); // one object

std::string pending_table(const std::vector<PendingConnection> &conns, const IfName &names);
std::string pending_json(const std::vector<PendingConnection> &conns, const IfName &names);

} // namespace xdpflow
