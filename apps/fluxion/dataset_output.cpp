// compute_in_rounds and DatasetFile.
#include "dataset_output.hpp"

#include <algorithm>
#include <system_error>

#include "fluxion/core/error.hpp"
#include "fluxion/core/petsc_session.hpp"

namespace fluxion::apps {

namespace {

// A failure on any rank stops every rank with the lowest failing rank's item and message (no rank
// waits forever for the next round).
void fail_together(MPI_Comm comm, const std::string& error, long item,
                   const std::function<void(long, const std::string&)>& fail) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  int failed = error.empty() ? ranks : rank, first_failed = ranks;
  MPI_Allreduce(&failed, &first_failed, 1, MPI_INT, MPI_MIN, comm);
  if (first_failed == ranks) return;
  long length = static_cast<long>(error.size()), failed_item = item;
  MPI_Bcast(&length, 1, MPI_LONG, first_failed, comm);
  MPI_Bcast(&failed_item, 1, MPI_LONG, first_failed, comm);
  std::string message = error;
  message.resize(static_cast<std::size_t>(length));
  MPI_Bcast(message.data(), static_cast<int>(length), MPI_CHAR, first_failed, comm);
  fail(failed_item, message);
  throw Error("compute_in_rounds: the failure handler returned");  // fail() must throw
}

}  // namespace

void compute_in_rounds(MPI_Comm comm, long count, std::size_t values,
                       const std::function<std::vector<double>(long)>& compute,
                       const std::function<void(long, std::vector<double>&)>& deliver,
                       const std::function<void(long, const std::string&)>& fail) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  for (long round = 0; round < count; round += ranks) {
    const long mine = round + rank;
    std::vector<double> result;
    std::string error;
    if (mine < count) {
      try {
        result = compute(mine);
        if (result.size() != values)
          error = "computed " + std::to_string(result.size()) + " values; expected " + std::to_string(values);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    fail_together(comm, error, mine, fail);
    const int senders = static_cast<int>(std::min<long>(ranks, count - round));
    std::vector<std::vector<double>> data(rank == 0 ? senders : 0);
    if (rank == 0) {
      data[0] = std::move(result);
      for (int r = 1; r < senders; ++r) {
        data[r].resize(values);
        MPI_Recv(data[r].data(), static_cast<int>(values), MPI_DOUBLE, r, 1, comm, MPI_STATUS_IGNORE);
      }
    } else if (rank < senders) {
      MPI_Send(result.data(), static_cast<int>(values), MPI_DOUBLE, 0, 1, comm);
    }
    on_root(comm, [&] {
      for (int r = 0; r < senders; ++r) deliver(round + r, data[r]);
    });
  }
}

void write_item_ids(DatasetFile& file, const std::string& index_name, long first, long count,
                    const std::function<std::uint64_t(long item)>& seed_of) {
  std::vector<std::uint64_t> seeds;
  std::vector<std::int64_t> indices;
  for (long i = first; i < first + count; ++i) {
    seeds.push_back(seed_of(i));
    indices.push_back(i);
  }
  file.write("seeds", seeds);
  file.write(index_name, indices);
}

nlohmann::json file_names(const std::vector<std::filesystem::path>& files) {
  nlohmann::json names = nlohmann::json::object();
  for (const auto& p : files) names[p.stem().string()] = p.filename().string();
  return names;
}

}  // namespace fluxion::apps
