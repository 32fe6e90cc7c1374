// Model files: what `train --out` writes and `eval`, `predict` and `--init` read. The
// format, the Model struct and the writer are the SDK's (localsgd/model_file.hpp), shared
// with plugins that write model files; the core adds the reader.
#pragma once

#include <filesystem>

#include "localsgd/model_file.hpp"

namespace localsgd::core {

using localsgd::kModelFormatVersion;
using localsgd::Model;

// localsgd::write_model_file's content, written atomically as every file of the core is
// (atomic_file.hpp: an interrupted run leaves no partial file).
void save_model(const std::filesystem::path& path, const Model& model);
// Throws DataError naming the file (and line) for a missing, foreign or corrupt file.
Model load_model(const std::filesystem::path& path);

}  // namespace localsgd::core
