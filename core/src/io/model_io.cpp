#include "localsgd/core/io/model_io.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>

#include <nlohmann/json.hpp>

#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/input_file.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::core {

void save_model(const std::filesystem::path& path, const Model& model) {
  write_file_atomically(path, [&](std::ostream& out) { write_model(out, model); });
}

namespace {

// An integer header field. nlohmann's get<int64_t>() of a float such as 4.4e39 is
// undefined behaviour (found by fuzz_model): only JSON integers in range are accepted.
std::int64_t integer_field(const nlohmann::json& header, const char* key, const std::string& file) {
  const nlohmann::json& value = header.at(key);
  const bool in_range = value.is_number_integer() &&
                        (!value.is_number_unsigned() ||
                         value.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX));
  if (!in_range)
    throw DataError(file, 1, 1,
                    std::string("malformed model header: \"") + key + "\" is not an integer");
  return value.get<std::int64_t>();
}

}  // namespace

Model load_model(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (const auto problem = input_file_problem(path, UINTMAX_MAX))
    throw DataError(file, 0, 0, *problem + ", expected a model file");
  std::ifstream in(path);
  if (!in) throw DataError(file, 0, 0, "cannot open model file");
  std::string line;
  if (!std::getline(in, line)) throw DataError(file, 1, 0, "empty model file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    throw DataError(file, 1, 1, "not a localsgd model file (no JSON header)");
  }
  if (!header.is_object() || !header.contains("format") || header["format"] != "localsgd-model")
    throw DataError(file, 1, 1, "not a localsgd model file");
  Model model;
  std::size_t dimension = 0;
  try {
    const auto version = integer_field(header, "version", file);
    if (version != kModelFormatVersion)
      throw DataError(file, 1, 1,
                      "model format version " + std::to_string(version) +
                          " is not supported (this localsgd reads version " +
                          std::to_string(kModelFormatVersion) + ")");
    model.objective = header.at("objective").get<std::string>();
    model.params = header.at("params").get<std::map<std::string, std::string>>();
    model.cols = integer_field(header, "cols", file);
    if (header.contains("plugin_path"))
      model.plugin_path = header.at("plugin_path").get<std::string>();
    if (header.contains("plugin_version"))
      model.plugin_version = header.at("plugin_version").get<std::string>();
    const auto declared = integer_field(header, "dimension", file);
    if (declared < 0) throw DataError(file, 1, 1, "negative dimension");
    dimension = static_cast<std::size_t>(declared);
    model.coefficients.reserve(std::min<std::size_t>(dimension, std::size_t{1} << 20));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(file, 1, 1, std::string("malformed model header: ") + e.what());
  }
  std::int64_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (model.coefficients.size() == dimension)
      throw DataError(file, line_number, 1,
                      "more coefficients than the header's " + std::to_string(dimension));
    double v = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
    if (ec != std::errc() || end != line.data() + line.size() || !std::isfinite(v))
      throw DataError(file, line_number, 1, "expected a finite number, got '" + line + "'");
    model.coefficients.push_back(v);
  }
  if (model.coefficients.size() != dimension)
    throw DataError(file, line_number, 0,
                    "header says " + std::to_string(dimension) + " coefficients, the file has " +
                        std::to_string(model.coefficients.size()) +
                        (model.coefficients.size() < dimension ? " (truncated?)" : ""));
  return model;
}

}  // namespace localsgd::core
