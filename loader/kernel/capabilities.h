// Which of the capabilities a command needs the process lacks, to turn a bare
// EPERM/EACCES into a message naming the missing one(s).
#pragma once

#include <initializer_list>
#include <string>

namespace xdpflow {

// "; this process lacks CAP_PERFMON" (names in `needed` missing from the
// effective set), or "" when none is missing: then the refusal has another
// cause (an LSM, a user namespace...). CAP_SYS_ADMIN stands in for CAP_BPF and
// CAP_PERFMON, as the kernel allows.
std::string missing_capabilities_note(std::initializer_list<int> needed);

} // namespace xdpflow
