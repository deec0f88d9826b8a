// `xfbench memlat --bytes SIZE...`: what one memory miss costs on this
// machine, the unit issue 17's "about one memory miss per packet" is judged
// in. For each buffer size, the latency of dependent loads of random cache
// lines: a pointer chase over a random cyclic permutation of the buffer's
// 64-byte lines, so every load waits for the one before and no prefetcher
// can guess the next. The buffer has 4 KiB pages (MADV_NOHUGEPAGE), as the
// flow table's BPF maps have in vmalloc memory: a large buffer's loads pay
// the TLB miss (a nested page walk in a VM) as well as the cache miss, as
// the table's lookups do. Runs pinned to --cpu (the gateway's). One result
// line per size:
//   kind=memlat  bytes, pages=4k, ns_per_load (median of --repeats timed
//                chases of --loads loads each), min / max, loads, cpu
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "report.h"
#include "result_line.h"

using xdpflow::SysError;
using xdpflow::UsageError;

namespace xfbench {
namespace {

constexpr std::size_t kLine = 64;

struct MemlatOptions {
  std::vector<std::uint64_t> sizes;
  int cpu = -1;
  std::uint64_t loads = 2'000'000; // per timed chase: ~0.4 s at 200 ns
  int repeats = 3;
};

// An anonymous mapping with 4 KiB pages, unmapped with the object.
class Buffer {
public:
  explicit Buffer(std::size_t bytes) : bytes_(bytes) {
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw SysError(errno, "mapping a " + std::to_string(bytes) + "-byte buffer");
    // Before the first touch: no page of it may become a huge page.
    if (madvise(p, bytes, MADV_NOHUGEPAGE)) {
      int err = errno;
      munmap(p, bytes);
      throw SysError(err, "madvise(MADV_NOHUGEPAGE) on the buffer");
    }
    base_ = static_cast<char *>(p);
  }
  ~Buffer() { munmap(base_, bytes_); }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  char *line(std::size_t i) const { return base_ + i * kLine; }

private:
  char *base_ = nullptr;
  std::size_t bytes_;
};

// Each line's first word points to the next line of one random cycle
// through all of them (Sattolo's shuffle: a single cycle, so the chase
// visits every line before it repeats).
void link_random_cycle(const Buffer &buf, std::size_t lines) {
  std::vector<std::uint32_t> next(lines);
  for (std::size_t i = 0; i < lines; i++)
    next[i] = static_cast<std::uint32_t>(i);
  std::mt19937_64 rng(0x5eed);
  for (std::size_t i = lines - 1; i > 0; i--)
    std::swap(next[i], next[std::uniform_int_distribution<std::size_t>(0, i - 1)(rng)]);
  for (std::size_t i = 0; i < lines; i++)
    *reinterpret_cast<char **>(buf.line(i)) = buf.line(next[i]);
}

// Follows the chain for n loads (volatile: none may be optimised away);
// returns where it ended, where the next chase continues.
char *chase(char *p, std::uint64_t n) {
  for (std::uint64_t k = 0; k < n / 8; k++) {
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
    p = *reinterpret_cast<char *volatile *>(p);
  }
  return p;
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set))
    throw SysError(errno, "pinning to CPU " + std::to_string(cpu));
}

ResultLine measure(std::uint64_t bytes, const MemlatOptions &o) {
  if (bytes < 64 * kLine || bytes / kLine > UINT32_MAX)
    throw UsageError("--bytes: " + std::to_string(bytes) + " is out of range (4 KiB .. 256 GiB)");
  std::size_t lines = bytes / kLine;
  Buffer buf(lines * kLine);
  link_random_cycle(buf, lines);
  // A warm-up chase as long as a timed one (the pages were faulted in by
  // the linking): the caches and TLBs hold what they would in steady state.
  char *p = chase(buf.line(0), o.loads);
  std::vector<double> ns;
  for (int r = 0; r < o.repeats; r++) {
    auto t0 = std::chrono::steady_clock::now();
    p = chase(p, o.loads);
    auto t1 = std::chrono::steady_clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                 static_cast<double>(o.loads / 8 * 8));
  }
  Spread s = spread_of(ns);
  ResultLine line;
  line.set("kind", "memlat")
      .set("bytes", std::to_string(lines * kLine))
      .set("pages", "4k")
      .set("ns_per_load", s.median)
      .set("ns_min", s.min)
      .set("ns_max", s.max)
      .set("loads", std::to_string(o.loads / 8 * 8))
      .set("repeats", std::to_string(o.repeats))
      .set("cpu", std::to_string(o.cpu));
  return line;
}

void run_memlat(const MemlatOptions &o) {
  if (o.loads < 8 || o.repeats < 1)
    throw UsageError("--loads must be >= 8 and --repeats >= 1");
  if (o.cpu >= 0)
    pin_to(o.cpu);
  for (auto bytes : o.sizes) {
    std::printf("%s\n", measure(bytes, o).to_string().c_str());
    std::fflush(stdout);
  }
}

} // namespace

void register_memlat(CLI::App &app) {
  auto o = std::make_shared<MemlatOptions>();
  auto *cmd = app.add_subcommand(
      "memlat", "latency of dependent random cache-line loads in buffers of 4 KiB pages");
  cmd->add_option("--bytes", o->sizes, "buffer sizes, e.g. 32M 512M (K, M, G: powers of 1024)")
      ->transform(CLI::AsSizeValue(false))
      ->required();
  cmd->add_option("--cpu", o->cpu, "pin to this CPU (default: where the scheduler puts it)");
  cmd->add_option("--loads", o->loads, "loads per timed chase")->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "timed chases per size (the median is reported)")
      ->capture_default_str();
  cmd->callback([o] { run_memlat(*o); });
}

} // namespace xfbench
