// The file a loaded plugin's code came from, for checkpoints: a resume with a rebuilt
// plugin of the same name and version is still another plugin.
#pragma once

#include <filesystem>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// The shared library (or executable) that holds `manifest`.
std::filesystem::path plugin_file(const Manifest& manifest);

// XXH3-64 of that file's bytes, in hex.
std::string plugin_file_hash(const Manifest& manifest);

}  // namespace localsgd::core
