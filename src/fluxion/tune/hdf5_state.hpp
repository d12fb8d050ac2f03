// Learner and tuner state in HDF5 files: names like "bin3/k" become groups and datasets, written atomically.
#pragma once

#include <filesystem>

#include "fluxion/tune/omega_tuner.hpp"
#include "fluxion/tune/state.hpp"

namespace fluxion {

/// Writes every entry of `state` to an HDF5 file (doubles as float64 and integers as int64 1D
/// datasets, text as a fixed-length string; "bin3/k" is dataset k in group bin3), marked by a
/// root attribute `fluxion_state`. Atomic: the file is written under "<path>.tmp" and renamed over
/// `path`, so a failure or a killed run leaves the previous file as it was.
/// Throws fluxion::IoError naming the file (unwritable folder, a name that is both an entry and
/// a group prefix, ...). Serial: under MPI call it on one rank.
void write_state_file(const std::filesystem::path& path, const MemoryState& state);

/// Reads a file written by write_state_file. Throws fluxion::IoError naming the file when it is
/// missing, not HDF5, not a fluxion state, or holds a dataset of another type or shape.
MemoryState read_state_file(const std::filesystem::path& path);

/// What load_tuner_state does when the file does not exist.
enum class IfMissing { Error, Ignore };

/// Saves the tuner (learner, arm grid, step count) with write_state_file.
void save_tuner_state(const std::filesystem::path& path, const OmegaTuner& tuner);

/// Loads a state saved by save_tuner_state into `tuner`, which then continues learning. Returns
/// false, changing nothing, when the file does not exist and `if_missing` is Ignore (a first
/// run). A corrupt file, or a state of another grid, solver or learner, throws fluxion::IoError
/// naming the file and leaves the tuner unchanged.
bool load_tuner_state(const std::filesystem::path& path, OmegaTuner& tuner, IfMissing if_missing = IfMissing::Error);

}  // namespace fluxion
