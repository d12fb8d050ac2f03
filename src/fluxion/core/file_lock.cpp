// FileLock: flock on a small file, re-checked against the path so that a lock file removed by its
// releasing holder is never "locked" by a second process that opened the old inode.
#include "fluxion/core/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

#include "fluxion/core/error.hpp"
#include "fluxion/core/petsc_session.hpp"

namespace fluxion {

namespace {

std::string read_holder(int fd) {
  char buf[256] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "holder unknown" : s;
}

std::string holder_text() {
  char host[128] = "unknown host";
  gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char when[32] = "";
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  return "pid " + std::to_string(getpid()) + " on " + host + ", since " + when + "\n";
}

// Rank 0's part: returns the fd on success, or throws with a message.
int acquire(const std::filesystem::path& path, const std::string& what) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw IoError(path.string() + ": cannot create the lock file of " + what + ": " + std::strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string holder = err == EWOULDBLOCK ? read_holder(fd) : std::string();
      ::close(fd);
      if (err == EWOULDBLOCK)
        throw IoError(what + " is in use by another fluxion run (" + holder + "); lock file " + path.string());
      throw IoError(path.string() + ": cannot lock " + what + ": " + std::strerror(err));
    }
    // The previous holder may have removed the file between our open and our flock: then we hold a
    // lock on an orphaned inode. Retry until the locked inode is the one at the path.
    struct stat by_fd {}, by_path {};
    if (fstat(fd, &by_fd) == 0 && stat(path.c_str(), &by_path) == 0 && by_fd.st_ino == by_path.st_ino &&
        by_fd.st_dev == by_path.st_dev) {
      const std::string holder = holder_text();
      if (ftruncate(fd, 0) != 0 || pwrite(fd, holder.data(), holder.size(), 0) < 0) {
        // The lock holds without the note (a full disk); the holder is then reported as unknown.
      }
      return fd;
    }
    ::close(fd);
  }
  throw IoError(path.string() + ": cannot lock " + what + ": the lock file keeps changing");
}

}  // namespace

FileLock::FileLock(MPI_Comm comm, std::filesystem::path lock_file, std::string what) : path_(std::move(lock_file)) {
  on_root(comm, [&] { fd_ = acquire(path_, what); });
}

FileLock::~FileLock() { release(); }

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void FileLock::release() noexcept {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still locked: a waiter that opened it re-checks the inode
  ::close(fd_);
  fd_ = -1;
}

}  // namespace fluxion
