#include "localsgd/core/plugins/plugin_file.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/errors.hpp"

namespace localsgd::core {

std::filesystem::path plugin_file(const Manifest& manifest) {
  return std::filesystem::path(boost::dll::symbol_location_ptr(&manifest).string());
}

std::string plugin_file_hash(const Manifest& manifest) {
  const std::filesystem::path path = plugin_file(manifest);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  // Not istreambuf_iterator: it reads the buffer directly and never reports a read error.
  if (!in || !(content << in.rdbuf()))
    throw PluginError("cannot read plugin file " + path.string() + " of '" + manifest.name + "'");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(
                    binary::hash64(content.view().data(), content.view().size())));
  return hex;
}

}  // namespace localsgd::core
