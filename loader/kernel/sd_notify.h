// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. A no-op
// when not started by systemd with Type=notify.
#pragma once

#include <string>

namespace xdpflow {

// Sends e.g. "READY=1\nSTATUS=..." ; returns false when there is no
// NOTIFY_SOCKET or sending failed (never fatal: systemd times out instead).
bool sd_notify_state(const std::string &state);

} // namespace xdpflow
