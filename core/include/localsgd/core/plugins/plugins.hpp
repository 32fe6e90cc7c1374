// Finding, loading and instantiating plugins (Boost.DLL).
//
// A plugin is named either by a path to a .so or by its name, resolved as <name>.so in
// each directory of the search path, in order:
//   1. $LOCALSGD_PLUGIN_PATH (colon-separated directories),
//   2. <directory of the executable>/../lib/localsgd/plugins: the installed layout, and the
//      build tree's too (bin/ and lib/localsgd/plugins/ side by side), so an installed
//      executable never falls back to the build tree it came from.
//
// Loaded libraries stay loaded for the life of the process, so no object created by a
// plugin can outlive the code of its virtual functions.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

std::vector<std::filesystem::path> plugin_search_path();

// Loads (once) the plugin named by `name_or_path` and checks its ABI version and kind.
// Throws PluginError with a one-line message for every failure; an unknown name lists
// the plugins of `kind` that were found.
const Manifest& load_plugin(const std::string& name_or_path, PluginKind kind);

struct PluginListing {
  std::filesystem::path path;
  const Manifest* manifest = nullptr;  // null when the file could not be loaded
  std::string problem;                 // why it could not, when manifest is null
};

// Every <name>.so in the search path (first occurrence of a name wins), sorted by kind
// and name.
std::vector<PluginListing> discover_plugins();

// The file suffixes a reader plugin claims (LOCALSGD_READER_SUFFIXES), as loaded; empty
// for readers that claim none and for other kinds.
const std::vector<std::string>& reader_suffixes(const Manifest& manifest);

// The reader plugin in the search path that claims the longest suffix of `file`'s name,
// or "" when none does. UsageError when two readers claim that suffix.
std::string reader_claiming(const std::string& file);

// Factories. Parameters are checked against the manifest first (unknown key -> ParamError
// listing the known ones); an exception escaping the factory becomes a PluginError unless
// it is a DataError or ParamError, which keep their meaning.
// `cols` is the model's number of feature columns; -1 means data.cols.
std::unique_ptr<Objective> make_objective(const Manifest& manifest, const ParamMap& params,
                                          const DataView& data, std::int64_t cols = -1);
std::unique_ptr<Reader> make_reader(const Manifest& manifest, const ParamMap& params);
std::unique_ptr<Schedule> make_schedule(const Manifest& manifest, const ParamMap& params);

// Runs `body`, translating foreign exceptions into PluginError("<what> '<name>': ...").
template <class Body>
auto call_plugin(const Manifest& manifest, const char* what, Body&& body) -> decltype(body());

// Parses "key=value" into `params`; UsageError naming `option` when malformed.
void add_key_value(ParamMap& params, const std::string& option, const std::string& key_value);

}  // namespace localsgd::core

#include "localsgd/core/plugins/call_plugin.hpp"
