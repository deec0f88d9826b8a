#include "kernel/netns_lock.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace xdpflow {

namespace {

constexpr char kHowToRun[] =
    "xdpflow attach needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON with /run/xdpflow owned "
    "by its user (xdpflow.service: RuntimeDirectory=xdpflow)";

bool permission(int err) {
  return err == EACCES || err == EPERM || err == EROFS;
}

std::string lock_name() {
  struct stat st {};
  if (stat("/proc/self/ns/net", &st) != 0)
    throw SysError(errno, "reading the network namespace's inode (/proc/self/ns/net)");
  return "netns-" + std::to_string(st.st_ino) + ".lock";
}

// Root's or ours, and writable by nobody else: nothing another user made.
bool trusted(const struct stat &st) {
  return (st.st_uid == 0 || st.st_uid == geteuid()) && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

std::string owner_note(const struct stat &st) {
  return "owned by uid " + std::to_string(st.st_uid) + ", mode " +
         std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
         std::to_string(st.st_mode & 7);
}

UniqueFd open_run_dir() {
  if (mkdir(kRunDir, 0755) != 0 && errno != EEXIST) {
    if (permission(errno))
      throw RuntimeError(
          std::string("permission denied taking the per-netns lock: cannot create ") + kRunDir +
          " (" + std::strerror(errno) + "); " + kHowToRun);
    throw SysError(errno, std::string("creating ") + kRunDir + " for the per-netns lock");
  }
  UniqueFd dir(open(kRunDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir)
    throw SysError(errno, std::string("opening ") + kRunDir + " (it must be a directory)");
  struct stat st {};
  if (fstat(dir.get(), &st) != 0)
    throw SysError(errno, std::string("reading ") + kRunDir);
  if (!trusted(st))
    throw RuntimeError(std::string(kRunDir) + " is " + owner_note(st) +
                       ": not root's, so another user could hold xdpflow's lock; remove it as "
                       "root (rm -r " +
                       kRunDir + ") and start again");
  return dir;
}

// The pid the holder wrote into the file (0 when not written yet).
pid_t read_pid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  pid_t pid = 0;
  if (n > 0)
    std::from_chars(buf, buf + n, pid);
  return pid;
}

struct flock whole_file(short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET; // l_start = l_len = 0: the whole file; l_pid must be 0 for OFD locks
  return fl;
}

} // namespace

std::string NetnsLock::path() {
  return std::string(kRunDir) + "/" + lock_name();
}

std::optional<pid_t> NetnsLock::holder() {
  std::string file = path();
  UniqueFd fd(open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT)
      return std::nullopt;
    if (errno == EACCES)
      throw RuntimeError("permission denied reading the per-netns lock " + file +
                         "; it is root's: run as root");
    throw SysError(errno, "opening the per-netns lock " + file);
  }
  struct flock fl = whole_file(F_WRLCK);
  if (fcntl(fd.get(), F_OFD_GETLK, &fl) != 0)
    throw SysError(errno, "testing the per-netns lock " + file);
  if (fl.l_type == F_UNLCK)
    return std::nullopt;
  return read_pid(fd.get());
}

NetnsLock::NetnsLock() {
  UniqueFd dir = open_run_dir();
  std::string name = lock_name();
  path_ = std::string(kRunDir) + "/" + name;
  // A stopping holder unlinks its file before it lets go of the lock: whoever
  // got the lock on that unlinked file tries again with a fresh one.
  for (int attempt = 0; attempt < 8; ++attempt) {
    UniqueFd fd(openat(dir.get(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd && permission(errno))
      throw RuntimeError("permission denied taking the per-netns lock " + path_ + "; " + kHowToRun);
    if (!fd)
      throw SysError(errno, "opening the per-netns lock " + path_);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0)
      throw SysError(errno, "reading the per-netns lock " + path_);
    if (!S_ISREG(st.st_mode) || !trusted(st) || (st.st_mode & 077) != 0)
      throw RuntimeError("the per-netns lock " + path_ + " is " + owner_note(st) +
                         ", not a root-only file: something else made it; remove it as root and "
                         "start again");
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd.get(), F_OFD_SETLK, &fl) != 0) {
      if (errno != EAGAIN && errno != EACCES)
        throw SysError(errno, "locking " + path_);
      pid_t pid = read_pid(fd.get());
      throw RuntimeError("xdpflow is already running in this network namespace" +
                         (pid ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                         "; stop it first (kill -TERM it or systemctl stop xdpflow), or check "
                         "what it does with: xdpflow status");
    }
    struct stat now {};
    if (fstatat(dir.get(), name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
        now.st_ino != st.st_ino || now.st_dev != st.st_dev)
      continue;
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd.get(), 0) != 0 ||
        pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
      throw SysError(errno, "writing our pid into " + path_);
    fd_ = std::move(fd);
    return;
  }
  throw RuntimeError("the per-netns lock " + path_ +
                     " kept changing under us (instances starting and stopping); try again");
}

NetnsLock::~NetnsLock() {
  // Unlink while still holding the lock (see the retry in the constructor);
  // the kernel releases the lock when fd_ closes.
  if (fd_)
    unlink(path_.c_str());
}

} // namespace xdpflow
