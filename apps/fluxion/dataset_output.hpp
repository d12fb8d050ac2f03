// What the data-set apps (ns2d_dataset, darcy_dataset) share: items computed whole by the ranks
// and gathered to rank 0 (which writes them with fluxion/io/dataset_file.hpp).
#pragma once

#include <petscsys.h>  // mpi.h without its C++ bindings

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fluxion/io/dataset_file.hpp"

namespace fluxion::apps {

using io_detail::DatasetFile;

/// Items [0, count) computed whole, in rounds of one item per rank (item round + r on rank r), each
/// item's `values` numbers sent to rank 0, which hands them to `deliver` in item order (a file write
/// there reaches every rank as an error, like on_root). Items computed on one rank with a serial
/// solver give the same bits on any rank count. When compute() throws on some rank, every rank
/// calls fail(item, message) after that round, with the lowest failing rank's item and message;
/// fail must throw. Collective.
void compute_in_rounds(MPI_Comm comm, long count, std::size_t values,
                       const std::function<std::vector<double>(long item)>& compute,
                       const std::function<void(long item, std::vector<double>& values)>& deliver,
                       const std::function<void(long item, const std::string& message)>& fail);

/// /seeds and /<index_name> of a split holding items [first, first + count) of the whole data set:
/// each item's seed and its index in the whole data set.
void write_item_ids(DatasetFile& file, const std::string& index_name, long first, long count,
                    const std::function<std::uint64_t(long item)>& seed_of);

/// summary.json's "files" entry: each written file's stem to its file name.
nlohmann::json file_names(const std::vector<std::filesystem::path>& files);

}  // namespace fluxion::apps
