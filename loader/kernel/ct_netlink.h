// Conntrack over NETLINK_NETFILTER: the event listener (NEW/UPDATE/DESTROY
// groups, big receive buffer, overrun detection), full-table dumps on a
// separate socket, and the batched writer for timeout refreshes and TCP
// BE_LIBERAL flags.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/ct_message.h"
#include "core/flow_sync.h"
#include "kernel/netlink_socket.h"

namespace xdpflow {

class CtListener {
public:
  // rcvbuf_bytes 0: the default (16 MiB).
  explicit CtListener(int rcvbuf_bytes = 0);

  int fd() const { return events_.fd(); }
  int rcvbuf() const { return rcvbuf_; }

  using OnMessage = std::function<void(const CtParseResult &)>;
  enum class ReadResult { Drained, More, Overrun };
  // Reads up to max_datagrams queued datagrams without blocking and feeds
  // each message to on_msg. Overrun: the kernel dropped events (ENOBUFS);
  // the caller must grow_buffer() and resync with dump().
  ReadResult read(const OnMessage &on_msg, int max_datagrams = 64);
  // Doubles the event socket's buffer (up to 1 GiB); returns the new size.
  int grow_buffer();
  // Throws away whatever is queued. After an overrun the kernel reports the
  // next one only once the queue has been emptied, so this must precede the
  // resync dump (whose result supersedes the discarded events anyway).
  void discard_queued();
  // Messages the kernel dropped for this socket so far (/proc/net/netlink
  // "Drops"), or -1 when unknown.
  long drops() const;
  // The whole table (IPv4 and IPv6) through a fresh socket, entry by entry.
  void dump(const OnMessage &on_msg);

private:
  NetlinkSocket events_;
  int rcvbuf_ = 0;
  std::vector<std::uint8_t> buf_;
};

// Queues conntrack updates and sends them many messages per datagram.
class NetlinkConntrackWriter : public ConntrackWriter {
public:
  NetlinkConntrackWriter();
  void update(const CtUpdate &update) override;
  // Sends what is queued; replies (ENOENT for entries already gone) are
  // drained and counted, never fatal.
  void flush();
  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }

private:
  void drain_replies();
  NetlinkSocket sock_;
  std::vector<CtUpdate> queue_;
  std::vector<std::uint8_t> out_, in_;
  std::uint64_t sent_ = 0, failed_ = 0;
};

} // namespace xdpflow
