// The one symbol every plugin exports: its manifest.
//
// A plugin is one .cpp file built as a shared library:
//
//   #include <localsgd/sdk.hpp>
//   namespace {
//   class MyLoss final : public localsgd::MarginObjective { ... };
//   constexpr localsgd::ParamDoc kParams[] = {{"lambda", "1/n", "L2 strength"}};
//   const auto kManifest = localsgd::objective_manifest<MyLoss>(
//       "myloss", "1.0.0", "what it is, in one line", kParams);
//   }  // namespace
//   LOCALSGD_PLUGIN(kManifest)
//
// The core reads abi_version first and refuses a mismatch before touching anything else.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <boost/dll/alias.hpp>

#include "localsgd/abi.hpp"
#include "localsgd/objective.hpp"
#include "localsgd/params.hpp"
#include "localsgd/reader.hpp"
#include "localsgd/schedule.hpp"

namespace localsgd {

enum class PluginKind : std::uint32_t { objective = 1, reader = 2, schedule = 3 };

inline const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::objective: return "objective";
    case PluginKind::reader: return "reader";
    case PluginKind::schedule: return "schedule";
  }
  return "unknown";
}

// One documented parameter: shown by `localsgd plugins info`, and the set of keys the
// core accepts for this plugin.
struct ParamDoc {
  const char* name;
  const char* default_value;
  const char* meaning;
};

struct Manifest {
  std::uint32_t abi_version;  // must stay the first member
  PluginKind kind;
  const char* name;
  const char* version;
  const char* description;
  const ParamDoc* params;
  std::size_t param_count;
  // Exactly one factory is set, the one matching `kind`.
  std::unique_ptr<Objective> (*make_objective)(const ObjectiveArgs&);
  std::unique_ptr<Reader> (*make_reader)(const ParamMap&);
  std::unique_ptr<Schedule> (*make_schedule)(const ParamMap&);
};

namespace detail {
inline Manifest manifest_without_factory(PluginKind kind, const char* name, const char* version,
                                         const char* description,
                                         std::span<const ParamDoc> params) {
  return {kAbiVersion,   kind,          name,    version, description,
          params.data(), params.size(), nullptr, nullptr, nullptr};
}
}  // namespace detail

// Builders: a Manifest whose factory constructs T from its arguments.
template <class T>
Manifest objective_manifest(const char* name, const char* version, const char* description,
                            std::span<const ParamDoc> params) {
  Manifest m =
      detail::manifest_without_factory(PluginKind::objective, name, version, description, params);
  m.make_objective = [](const ObjectiveArgs& args) -> std::unique_ptr<Objective> {
    return std::make_unique<T>(args);
  };
  return m;
}

template <class T>
Manifest reader_manifest(const char* name, const char* version, const char* description,
                         std::span<const ParamDoc> params) {
  Manifest m =
      detail::manifest_without_factory(PluginKind::reader, name, version, description, params);
  m.make_reader = [](const ParamMap& p) -> std::unique_ptr<Reader> {
    return std::make_unique<T>(p);
  };
  return m;
}

template <class T>
Manifest schedule_manifest(const char* name, const char* version, const char* description,
                           std::span<const ParamDoc> params) {
  Manifest m =
      detail::manifest_without_factory(PluginKind::schedule, name, version, description, params);
  m.make_schedule = [](const ParamMap& p) -> std::unique_ptr<Schedule> {
    return std::make_unique<T>(p);
  };
  return m;
}

using ManifestFunction = const Manifest*();

}  // namespace localsgd

// Name of the exported alias the core looks up.
#define LOCALSGD_MANIFEST_SYMBOL localsgd_manifest

// Exports `manifest_object` (a localsgd::Manifest with static storage) as the plugin's
// manifest. Use once per plugin, at namespace scope.
#define LOCALSGD_PLUGIN(manifest_object)   \
  namespace localsgd_plugin_export {       \
  const ::localsgd::Manifest* manifest() { \
    return &(manifest_object);             \
  }                                        \
  }                                        \
  BOOST_DLL_ALIAS(localsgd_plugin_export::manifest, localsgd_manifest)

// Name of the optional alias a reader exports to claim file suffixes.
#define LOCALSGD_READER_SUFFIXES_SYMBOL localsgd_reader_suffixes

// Optional, readers only: the file suffixes this reader claims, e.g.
//   LOCALSGD_READER_SUFFIXES(".tsv", ".tsv.gz")
// `--data FILE` (and eval/predict/--test) without --reader then picks this reader for a
// FILE whose name ends with one of them. The built-in suffixes (.csv, .bin, and the
// compressed forms of those) keep their readers; the longest claimed suffix wins; two
// readers claiming one suffix is a usage error naming both (README "Plugins"). Each
// suffix starts with '.'; use once per plugin, at namespace scope, after LOCALSGD_PLUGIN.
#define LOCALSGD_READER_SUFFIXES(...)                                     \
  namespace localsgd_plugin_export {                                     \
  const char* const* reader_suffixes() {                                 \
    static const char* const suffixes[] = {__VA_ARGS__, nullptr};        \
    return suffixes;                                                     \
  }                                                                      \
  }                                                                      \
  BOOST_DLL_ALIAS(localsgd_plugin_export::reader_suffixes, localsgd_reader_suffixes)

