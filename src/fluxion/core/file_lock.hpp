// FileLock: an exclusive, crash-safe lock that keeps two runs from sharing an output folder or a state file.
#pragma once

#include <mpi.h>

#include <filesystem>
#include <string>

namespace fluxion {

/// Holds an exclusive advisory lock (flock) on `lock_file` for its lifetime. The operating system
/// drops the lock when the process dies, so a killed run never leaves a stale lock behind. The file
/// holds the holder's pid, host and start time, which a refused second run names in its error; it is
/// removed when the lock is released normally.
///
/// Collective over `comm`: rank 0 takes the lock and every rank throws the same IoError when it is
/// held elsewhere ("<what> is in use by another fluxion run (pid 1234 on host, since ...): <file>").
///   FileLock lock(comm, out_dir / ".fluxion.lock", "output folder " + out_dir.string());
class FileLock {
 public:
  FileLock(MPI_Comm comm, std::filesystem::path lock_file, std::string what);
  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Releases early (removes the lock file on rank 0); the destructor then does nothing.
  void release() noexcept;

 private:
  std::filesystem::path path_;
  int fd_ = -1;  // rank 0 only
};

}  // namespace fluxion
