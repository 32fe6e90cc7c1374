// `localsgd plugins new NAME --kind objective|reader|schedule [--dir D]`: writes a complete
// out-of-tree plugin project (CMakeLists.txt using find_package(localsgd), a working
// example source whose comments teach the interface, and a test of it) into D/NAME.
#pragma once

#include <filesystem>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::cli {

// Throws UsageError for a name that is not [a-z][a-z0-9_]* or a directory that exists and
// is not empty; writes nothing then.
std::filesystem::path write_plugin_project(const std::string& name, PluginKind kind,
                                           const std::filesystem::path& parent);

}  // namespace localsgd::cli
