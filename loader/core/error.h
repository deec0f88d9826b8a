// Errors carry what was attempted and the errno up to main(), which turns
// them into one line and an exit code (1 runtime failure, 2 usage error).
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>

namespace xdpflow {

// A failed system or library call: "attaching XDP to eth0: Operation not
// permitted (errno 1)". err is a positive errno value.
class SysError : public std::runtime_error {
public:
  SysError(int err, const std::string &what)
      : std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err)),
        err_(err < 0 ? -err : err) {}
  int err() const { return err_; }

private:
  int err_;
};

// Bad input from the user (options, config file, interface names): exit 2.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Anything else that stops a command (not running, unsupported kernel...).
class RuntimeError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace xdpflow
