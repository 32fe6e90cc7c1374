// Model files: what `train --out` writes and `eval`, `predict` and `--init` read.
//
// Format (text, version 1): a one-line JSON header, then one coefficient per line in
// shortest round-trip decimal form:
//   {"format":"localsgd-model","version":1,"objective":"logreg","params":{"lambda":"2e-05"},
//    "dimension":300,"cols":300}
//   0.12345
//   ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace localsgd::core {

struct Model {
  std::string objective;                      // plugin name
  std::map<std::string, std::string> params;  // the objective's parameters, resolved
  std::int64_t cols = 0;                      // feature columns of the training data
  std::vector<double> coefficients;
};

inline constexpr int kModelFormatVersion = 1;

void save_model(const std::filesystem::path& path, const Model& model);
// Throws DataError naming the file (and line) for a missing, foreign or corrupt file.
Model load_model(const std::filesystem::path& path);

}  // namespace localsgd::core
