// Messages from rank 0 and progress reports for long runs.
#pragma once

#include <petscsys.h>  // mpi.h without its C++ bindings

#include <chrono>
#include <string>

namespace fluxion {

/// Prints a line on rank 0 of `comm` (stdout), flushed.
void print_line(MPI_Comm comm, const std::string& line);

/// `value` printed with one printf conversion ("%.3f s"), for tables and messages.
std::string format_number(const char* format, double value);

/// Wall seconds from `start` to now (steady clock).
double seconds_since(std::chrono::steady_clock::time_point start);

/// Progress of a loop of `total` steps: a bar redrawn in place on a terminal, and a plain line
/// every `line_interval_s` seconds (and at 0% and 100%) when stdout is a file or a pipe.
class Progress {
 public:
  Progress(MPI_Comm comm, std::string label, long total, double line_interval_s = 10.0);
  void update(long done, const std::string& note = "");
  void finish(const std::string& note = "");

 private:
  MPI_Comm comm_;
  std::string label_;
  long total_;
  double interval_;
  bool tty_ = false;
  bool rank0_ = false;
  long printed_ = -1;  // the last `done` reported
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace fluxion
