// Model files: torch's serialize archive (a zip TorchScript can read) with the header as a string.
#include "fluxion/learn/model_file.hpp"

#include <torch/script.h>

#include <cmath>
#include <system_error>

#include "fluxion/core/error.hpp"
#include "fluxion/core/version.hpp"

namespace fs = std::filesystem;

namespace fluxion::learn {

namespace {

constexpr const char* kHeaderKey = "fluxion_header";

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// The archive of `file`, or an IoError that says what is wrong with the file.
torch::serialize::InputArchive open_archive(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw IoError("model file " + quoted(file) + " does not exist");
  if (!fs::is_regular_file(file, ec)) throw IoError("model file " + quoted(file) + " is not a regular file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw IoError("model file " + quoted(file) + " is not a model file (corrupt or truncated?): " + what);
  }
  return archive;
}

}  // namespace

nlohmann::json ModelHeader::to_json() const {
  return {{"architecture", architecture}, {"dim", dim}, {"network", network}, {"training", training},
          {"fluxion_version", fluxion_version}, {"format", 1}};
}

ModelHeader ModelHeader::from_json(const nlohmann::json& j, const fs::path& file) {
  ModelHeader h;
  try {
    h.architecture = j.at("architecture").get<std::string>();
    h.dim = j.at("dim").get<int>();
    h.network = j.at("network");
    h.training = j.value("training", nlohmann::json::object());
    h.fluxion_version = j.value("fluxion_version", std::string("unknown"));
  } catch (const std::exception& e) {
    throw IoError("model file " + quoted(file) + ": its header is incomplete: " + e.what());
  }
  return h;
}

void save_model(const fs::path& file, torch::nn::Module& module, const ModelHeader& header) {
  ModelHeader h = header;
  if (h.fluxion_version.empty()) h.fluxion_version = kVersion;
  torch::serialize::OutputArchive archive;
  module.save(archive);
  archive.write(kHeaderKey, c10::IValue(h.to_json().dump()));
  const fs::path temporary = file.parent_path() / ("." + file.filename().string() + ".tmp");
  try {
    archive.save_to(temporary.string());
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(temporary, ec);
    throw IoError("cannot write model file " + quoted(file) + ": " + std::string(e.what()).substr(0, 200));
  }
  std::error_code ec;
  fs::rename(temporary, file, ec);
  if (ec) throw IoError("cannot write model file " + quoted(file) + ": " + ec.message());
}

bool has_model_header(const fs::path& file) {
  auto archive = open_archive(file);
  c10::IValue value;
  return archive.try_read(kHeaderKey, value) && value.isString();
}

ModelHeader read_model_header(const fs::path& file) {
  auto archive = open_archive(file);
  c10::IValue value;
  if (!archive.try_read(kHeaderKey, value) || !value.isString())
    throw IoError("model file " + quoted(file) + " has no fluxion header (a TorchScript module?)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(value.toStringRef());
  } catch (const std::exception& e) {
    throw IoError("model file " + quoted(file) + ": its header is not valid JSON: " + e.what());
  }
  return ModelHeader::from_json(j, file);
}

void check_model_header(const ModelHeader& h, const fs::path& file, const std::string& architecture, int dim) {
  if (h.architecture != architecture || (dim != 0 && h.dim != dim))
    throw IoError("model file " + quoted(file) + " holds a '" + h.architecture + "' network for " +
                  std::to_string(h.dim) + "D; this needs '" + architecture + "'" +
                  (dim != 0 ? " for " + std::to_string(dim) + "D" : std::string()));
}

void load_weights(const fs::path& file, torch::nn::Module& module) {
  auto archive = open_archive(file);
  // Module::load replaces each tensor by the stored one whatever its shape: compare after.
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& p : module.named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
  try {
    module.load(archive);
    const auto loaded = module.named_parameters();
    for (const auto& [name, shape] : shapes)
      if (loaded[name].sizes().vec() != shape)
        throw Error("tensor " + name + " has shape " + c10::str(loaded[name].sizes()) + ", the network needs " +
                    c10::str(c10::IntArrayRef(shape)));
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw IoError("model file " + quoted(file) + ": its weights do not fit the network its header describes: " +
                  what.substr(0, what.find('\n')));
  }
}

int network_integer(const nlohmann::json& network, const char* key, int lo, int hi) {
  if (!network.contains(key) || !network[key].is_number_integer())
    throw Error(std::string("network.") + key + ": missing or not an integer");
  const int v = network[key].get<int>();
  if (v < lo || v > hi)
    throw Error(std::string("network.") + key + " = " + std::to_string(v) + " is outside [" + std::to_string(lo) +
                ", " + std::to_string(hi) + "]");
  return v;
}

double network_number(const nlohmann::json& network, const char* key, double lo, double hi) {
  if (!network.contains(key) || !network[key].is_number())
    throw Error(std::string("network.") + key + ": missing or not a number");
  const double v = network[key].get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    throw Error(std::string("network.") + key + " = " + network[key].dump() + " is outside [" + std::to_string(lo) +
                ", " + std::to_string(hi) + "]");
  return v;
}

}  // namespace fluxion::learn
