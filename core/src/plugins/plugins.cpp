#include "localsgd/core/plugins/plugins.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/suggest.hpp"
#include "plugins/param_keys.hpp"

namespace localsgd::core {
namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestSymbol = "localsgd_manifest";
constexpr const char* kReaderSuffixesSymbol = "localsgd_reader_suffixes";
constexpr std::size_t kMaxSuffixes = 64, kMaxSuffixLength = 64;

// Every library loaded by this process, by canonical path. Never unloaded: objects made
// by a plugin may live until exit.
struct LoadedLibraries {
  std::mutex mutex;
  std::map<fs::path, std::pair<boost::dll::shared_library, const Manifest*>> by_path;
  std::map<const Manifest*, std::vector<std::string>> suffixes;  // readers that claim some
};

// A reader's claimed suffixes, checked: each ".something" of printable characters, a
// bounded list. PluginError naming the plugin otherwise.
std::vector<std::string> claimed_suffixes(const boost::dll::shared_library& library,
                                          const Manifest& manifest, const fs::path& path) {
  using SuffixFunction = const char* const*();
  if (manifest.kind != PluginKind::reader || !library.has(kReaderSuffixesSymbol)) return {};
  const char* const* list = library.get_alias<SuffixFunction>(kReaderSuffixesSymbol)();
  std::vector<std::string> suffixes;
  for (std::size_t i = 0; list != nullptr && list[i] != nullptr; ++i) {
    const std::string suffix = list[i];
    const bool printable = std::all_of(suffix.begin(), suffix.end(),
                                       [](char c) { return c > ' ' && c < 127 && c != '/'; });
    if (i >= kMaxSuffixes || suffix.size() < 2 || suffix.size() > kMaxSuffixLength ||
        suffix.front() != '.' || !printable)
      throw PluginError("reader plugin '" + std::string(manifest.name) + "' (" + path.string() +
                        ") claims a bad file suffix '" + suffix.substr(0, kMaxSuffixLength) +
                        "': expected at most " + std::to_string(kMaxSuffixes) +
                        " suffixes like \".tsv\"");
    suffixes.push_back(suffix);
  }
  return suffixes;
}

LoadedLibraries& loaded() {
  static auto* libraries = new LoadedLibraries;  // leaked on purpose: see above
  return *libraries;
}

bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos || (s.size() > 3 && s.ends_with(".so"));
}

// Opens `path` and returns its manifest after checking the ABI version. Throws PluginError.
const Manifest* open_library(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw PluginError("plugin file not found: " + path.string());
  if (!fs::is_regular_file(path, ec))
    throw PluginError("plugin path is not a file: " + path.string());
  const fs::path key = fs::canonical(path, ec);

  auto& libs = loaded();
  std::lock_guard lock(libs.mutex);
  if (auto it = libs.by_path.find(key); it != libs.by_path.end()) return it->second.second;

  boost::dll::shared_library library;
  try {
    library.load(boost::dll::fs::path(key.string()), boost::dll::load_mode::rtld_now);
  } catch (const std::exception&) {
    // Boost's text ends in a misleading errno; dlerror() is not reachable portably, so
    // state what we know.
    throw PluginError("cannot load plugin " + path.string() +
                      ": not a loadable shared library, or it has unresolved symbols");
  }
  if (!library.has(kManifestSymbol))
    throw PluginError("not a localsgd plugin: " + path.string() + " does not export '" +
                      kManifestSymbol + "' (use LOCALSGD_PLUGIN in the plugin source)");
  const Manifest* manifest = library.get_alias<ManifestFunction>(kManifestSymbol)();
  if (manifest == nullptr) throw PluginError("plugin " + path.string() + " returned no manifest");
  if (manifest->abi_version != kAbiVersion)
    throw PluginError("plugin " + path.string() + " was built for plugin ABI version " +
                      std::to_string(manifest->abi_version) + ", this localsgd needs " +
                      std::to_string(kAbiVersion) + "; rebuild it against this SDK");
  const bool factory_ok = (manifest->kind == PluginKind::objective && manifest->make_objective) ||
                          (manifest->kind == PluginKind::reader && manifest->make_reader) ||
                          (manifest->kind == PluginKind::schedule && manifest->make_schedule);
  if (!factory_ok || manifest->name == nullptr)
    throw PluginError("plugin " + path.string() + " has an incomplete manifest (no name or no " +
                      "factory for its kind)");
  std::vector<std::string> suffixes = claimed_suffixes(library, *manifest, path);
  if (!suffixes.empty()) libs.suffixes[manifest] = std::move(suffixes);
  libs.by_path.emplace(key, std::make_pair(std::move(library), manifest));
  return manifest;
}

fs::path executable_directory() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::vector<fs::path> plugin_search_path() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("LOCALSGD_PLUGIN_PATH")) {
    std::stringstream list(env);
    std::string dir;
    while (std::getline(list, dir, ':'))
      if (!dir.empty()) dirs.emplace_back(dir);
  }
  if (fs::path exe_dir = executable_directory(); !exe_dir.empty())
    dirs.push_back((exe_dir / ".." / "lib" / "localsgd" / "plugins").lexically_normal());
  return dirs;
}

const std::vector<std::string>& reader_suffixes(const Manifest& manifest) {
  static const std::vector<std::string> none;
  auto& libs = loaded();
  std::lock_guard lock(libs.mutex);
  const auto it = libs.suffixes.find(&manifest);
  return it == libs.suffixes.end() ? none : it->second;
}

std::string reader_claiming(const std::string& file) {
  const std::string name = fs::path(file).filename().string();
  std::size_t best = 0;
  std::vector<const PluginListing*> claimants;
  const std::vector<PluginListing> plugins = discover_plugins();
  for (const PluginListing& p : plugins) {
    if (p.manifest == nullptr || p.manifest->kind != PluginKind::reader) continue;
    std::size_t longest = 0;
    for (const std::string& suffix : reader_suffixes(*p.manifest))
      if (name.ends_with(suffix))  // ".tsv" alone too, as ".csv" is csv's
        longest = std::max(longest, suffix.size());
    if (longest == 0 || longest < best) continue;
    if (longest > best) claimants.clear();
    best = longest;
    claimants.push_back(&p);
  }
  if (claimants.empty()) return "";
  if (claimants.size() > 1)
    throw UsageError(file + ": its suffix '" + name.substr(name.size() - best) +
                     "' is claimed by reader plugins '" + claimants[0]->manifest->name + "' (" +
                     claimants[0]->path.string() + ") and '" + claimants[1]->manifest->name +
                     "' (" + claimants[1]->path.string() + "); choose one with --reader");
  return claimants.front()->manifest->name;
}

std::vector<PluginListing> discover_plugins() {
  std::vector<PluginListing> found;
  std::set<std::string> seen_names;
  for (const fs::path& dir : plugin_search_path()) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    // The first library in path order that shows a (kind, name) is the one that name
    // loads; a later one with the same manifest is shadowed and not listed.
    for (const fs::path& file : files) {
      PluginListing listing{file, nullptr, ""};
      try {
        listing.manifest = open_library(file);
      } catch (const PluginError& e) {
        listing.problem = e.what();
      }
      const std::string key =
          listing.manifest != nullptr
              ? std::string(to_string(listing.manifest->kind)) + "/" + listing.manifest->name
              : "file/" + file.filename().string();
      if (!seen_names.insert(key).second) continue;
      found.push_back(std::move(listing));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (!a.manifest || !b.manifest) return a.manifest != nullptr && b.manifest == nullptr;
    if (a.manifest->kind != b.manifest->kind) return a.manifest->kind < b.manifest->kind;
    return std::string_view(a.manifest->name) < std::string_view(b.manifest->name);
  });
  return found;
}

namespace {

// Two libraries of one kind showing one name: the first in the search path loads, and the
// user hears of the other once per process (a plugin in $LOCALSGD_PLUGIN_PATH replacing a
// built-in one should be a choice, not a surprise).
void warn_shadowed(const std::string& name, PluginKind kind, const fs::path& used,
                   const fs::path& other) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard lock(mutex);
  if (!warned.insert(std::string(to_string(kind)) + "/" + name).second) return;
  std::cerr << "localsgd: warning: " << to_string(kind) << " plugin '" << name << "' loads from "
            << used.string() << ", which shadows " << other.string()
            << " (the first in the search path wins; give a path to choose)\n";
}

}  // namespace

const Manifest& load_plugin(const std::string& name_or_path, PluginKind kind) {
  const Manifest* manifest = nullptr;
  if (looks_like_path(name_or_path)) {
    manifest = open_library(name_or_path);
  } else {
    // A name is the name a plugin shows (its manifest's), as `plugins list` prints it:
    // NAME.so or libNAME.so (CMake's default) in the first directory of the search path
    // that has one whose manifest says NAME, else any library in the path that says NAME;
    // only when no plugin shows NAME does a file of that name load whatever it is. So a
    // file named like a plugin that is another one (a logreg.so that shows 'ridge') does
    // not stand in for it.
    const Manifest* named_file = nullptr;  // the first NAME.so or libNAME.so, any manifest
    fs::path found_at;
    for (const fs::path& dir : plugin_search_path()) {
      for (const std::string& file : {name_or_path + ".so", "lib" + name_or_path + ".so"}) {
        std::error_code ec;
        if (!fs::exists(dir / file, ec)) continue;
        const Manifest* candidate = nullptr;
        try {
          candidate = open_library(dir / file);
        } catch (const PluginError&) {
          if (named_file == nullptr) throw;  // the file of that name is broken: say how
          continue;
        }
        if (named_file == nullptr) named_file = candidate;
        if (manifest == nullptr && name_or_path == candidate->name && candidate->kind == kind) {
          manifest = candidate;
          found_at = dir / file;
        } else if (manifest != nullptr && name_or_path == candidate->name &&
                   candidate->kind == kind && candidate != manifest) {
          warn_shadowed(name_or_path, kind, found_at, dir / file);
        }
      }
    }
    std::vector<PluginListing> listings;  // every library in the path, only when needed
    if (manifest == nullptr) {
      listings = discover_plugins();
      for (const PluginListing& p : listings)
        if (p.manifest != nullptr && name_or_path == p.manifest->name) {
          manifest = p.manifest;
          break;
        }
    }
    if (manifest == nullptr) manifest = named_file;
    if (manifest == nullptr) {
      std::string available;
      std::vector<std::string> names;
      for (const PluginListing& p : listings)
        if (p.manifest && p.manifest->kind == kind) {
          available += (available.empty() ? "" : ", ") + std::string(p.manifest->name);
          names.emplace_back(p.manifest->name);
        }
      const auto guess = closest_match(name_or_path, names);
      throw PluginError("unknown " + std::string(to_string(kind)) + " plugin '" + name_or_path +
                        "'" + (guess ? " (did you mean '" + *guess + "'?)" : "") +
                        "; available: " + (available.empty() ? "none found" : available) +
                        " (search path: $LOCALSGD_PLUGIN_PATH, <exe>/../lib/localsgd/plugins)");
    }
  }
  if (manifest->kind != kind)
    throw PluginError("plugin '" + std::string(manifest->name) + "' is a " +
                      to_string(manifest->kind) + " plugin, but a " + to_string(kind) +
                      " plugin was asked for");
  return *manifest;
}

namespace {

void check_params_declared(const Manifest& manifest, const ParamMap& params) {
  if (params.all().empty()) return;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < manifest.param_count; ++i)
    names.emplace_back(manifest.params[i].name);
  if (const auto key = first_unknown_key(params, names)) {
    const std::string known = join_names(names);
    throw ParamError(std::string(manifest.name) + ": unknown parameter '" + *key +
                     "'; known: " + (known.empty() ? "none" : known));
  }
}

}  // namespace

std::unique_ptr<Objective> make_objective(const Manifest& manifest, const ParamMap& params,
                                          const DataView& data, std::int64_t cols) {
  check_params_declared(manifest, params);
  ObjectiveArgs args{params, data, cols < 0 ? data.cols : cols};
  return call_plugin(manifest, "its factory", [&] { return manifest.make_objective(args); });
}

std::unique_ptr<Reader> make_reader(const Manifest& manifest, const ParamMap& params) {
  check_params_declared(manifest, params);
  return call_plugin(manifest, "its factory", [&] { return manifest.make_reader(params); });
}

std::unique_ptr<Schedule> make_schedule(const Manifest& manifest, const ParamMap& params) {
  check_params_declared(manifest, params);
  return call_plugin(manifest, "its factory", [&] { return manifest.make_schedule(params); });
}

void add_key_value(ParamMap& params, const std::string& option, const std::string& key_value) {
  const auto eq = key_value.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError(option + " " + key_value + ": expected key=value");
  const std::string key = key_value.substr(0, eq), value = key_value.substr(eq + 1);
  // The last of two would win silently, and which one the user meant is anyone's guess.
  if (params.has(key) && params.text(key, "") != value)
    throw UsageError(option + " " + key + " is given twice: " + params.text(key, "") + " and " +
                     value);
  params.set(key, value);
}

}  // namespace localsgd::core
