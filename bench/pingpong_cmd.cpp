// `xfbench pingpong`: a UDP request/response exchange on the generator's
// flow 0 (same addresses and ports), through the gateway's kernel path, so
// that conntrack sees both directions and, after two seconds of traffic,
// marks the connection ASSURED: what the control plane waits for before it
// offloads a UDP flow. The datagrams are longer than the generator's frames,
// so the sink lets them through to the sockets.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "bench_proto.h"
#include "commands.h"
#include "core/error.h"
#include "core/flow_key.h"
#include "netns.h"
#include "result_line.h"

using xdpflow::IpAddr;
using xdpflow::SysError;

namespace xfbench {
namespace {

struct PingPongOptions {
  std::string src_ns, dst_ns, src_addr, dst_addr;
  double seconds = 2.5;
};

class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0)
      close(fd_);
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }

private:
  int fd_;
};

sockaddr_storage sockaddr_of(const IpAddr &a, std::uint16_t port, socklen_t &len) {
  sockaddr_storage ss{};
  if (a.family == XF_FAMILY_IPV4) {
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    len = sizeof(*sin);
  } else {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
    len = sizeof(*sin6);
  }
  return ss;
}

// A UDP socket bound to addr:port inside namespace ns.
int bound_socket(const std::string &ns, const IpAddr &addr, std::uint16_t port) {
  NetnsScope scope(ns);
  int fd = socket(addr.family == XF_FAMILY_IPV4 ? AF_INET : AF_INET6,
                  SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    throw SysError(errno, "creating a UDP socket in " + ns);
  socklen_t len = 0;
  sockaddr_storage ss = sockaddr_of(addr, port, len);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr *>(&ss), len)) {
    int err = errno;
    close(fd);
    throw SysError(err, "binding UDP " + addr.to_string() + " port " + std::to_string(port) +
                            " in " + ns);
  }
  return fd;
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

void run_pingpong(const PingPongOptions &o) {
  auto src = IpAddr::parse(o.src_addr), dst = IpAddr::parse(o.dst_addr);
  if (!src || !dst || src->family != dst->family)
    throw xdpflow::UsageError("--src-addr and --dst-addr must be addresses of one family");
  Fd server(bound_socket(o.dst_ns, *dst, XFB_DPORT));
  Fd client(bound_socket(o.src_ns, *src, xfb_flow_sport(0)));
  socklen_t dst_len = 0;
  sockaddr_storage dst_sa = sockaddr_of(*dst, XFB_DPORT, dst_len);

  char payload[100];
  std::memset(payload, 'x', sizeof(payload));
  int sent = 0, answered = 0;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  do {
    if (sendto(client.get(), payload, sizeof(payload), 0, reinterpret_cast<sockaddr *>(&dst_sa),
               dst_len) < 0)
      throw SysError(errno, "sending the warm-up datagram");
    sent++;
    char buf[256];
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    if (wait_readable(server.get(), 1000)) {
      ssize_t n = recvfrom(server.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&from),
                           &from_len);
      if (n > 0 &&
          sendto(server.get(), buf, n, 0, reinterpret_cast<sockaddr *>(&from), from_len) > 0 &&
          wait_readable(client.get(), 1000) && recv(client.get(), buf, sizeof(buf), 0) > 0)
        answered++;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (elapsed() < o.seconds);
  if (answered == 0)
    throw xdpflow::RuntimeError("warm-up exchange " + o.src_addr + " -> " + o.dst_addr +
                                ": no answer to " + std::to_string(sent) + " datagrams");
  ResultLine line;
  line.set("kind", "pingpong")
      .set("sent", std::to_string(sent))
      .set("answered", std::to_string(answered));
  std::printf("%s\n", line.to_string().c_str());
}

} // namespace

void register_pingpong(CLI::App &app) {
  auto o = std::make_shared<PingPongOptions>();
  auto *cmd = app.add_subcommand("pingpong", "UDP exchange on flow 0 so conntrack assures it");
  cmd->add_option("--src-ns", o->src_ns)->required();
  cmd->add_option("--dst-ns", o->dst_ns)->required();
  cmd->add_option("--src-addr", o->src_addr, "flow 0's source address")->required();
  cmd->add_option("--dst-addr", o->dst_addr)->required();
  cmd->add_option("--seconds", o->seconds, "keep exchanging this long (UDP is assured after 2 s)")
      ->capture_default_str();
  cmd->callback([o] { run_pingpong(*o); });
}

} // namespace xfbench
