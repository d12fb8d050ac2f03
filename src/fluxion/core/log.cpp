// print_line and Progress.
#include "fluxion/core/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace fluxion {

void print_line(MPI_Comm comm, const std::string& line) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

Progress::Progress(MPI_Comm comm, std::string label, long total, double line_interval_s)
    : comm_(comm), label_(std::move(label)), total_(std::max(total, 1L)), interval_(line_interval_s) {
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  rank0_ = rank == 0;
  tty_ = isatty(fileno(stdout)) != 0;
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(long done, const std::string& note) {
  if (!rank0_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = std::clamp(static_cast<double>(done) / total_, 0.0, 1.0);
  if (tty_) {
    if (since_last < 0.1 && done < total_) return;
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::printf("\r%s [%.*s%*s] %3.0f%% %.1fs %s", label_.c_str(), filled, "##############################",
                width - filled, "", 100.0 * fraction, elapsed, note.c_str());
    std::fflush(stdout);
  } else {
    const bool first = printed_ < 0, last = done >= total_;
    if (!first && !last && since_last < interval_) return;
    if (last && printed_ >= total_) return;  // the end is reported once
    std::printf("%s: %3.0f%% %.1fs %s\n", label_.c_str(), 100.0 * fraction, elapsed, note.c_str());
    std::fflush(stdout);
  }
  last_ = now;
  printed_ = done;
}

void Progress::finish(const std::string& note) {
  if (!tty_ && printed_ >= total_) return;
  update(total_, note);
  if (rank0_ && tty_) {
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
}

std::string format_number(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace fluxion
