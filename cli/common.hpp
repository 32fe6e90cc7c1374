// Options shared by several subcommands.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tbb/global_control.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "localsgd/core/run/train_options.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::cli {

// key=value lists (--param, --reader-param, ...) into a ParamMap; UsageError when malformed.
ParamMap collect_params(const char* option, const std::vector<std::string>& items);

// The options given to `command` (command line and --config, option groups included), by
// their long names: a string, or an array of strings for a repeatable option.
nlohmann::ordered_json given_options(const CLI::App& command);

// Whether two paths name one file: the same path once made absolute and normal, or one
// existing file reached two ways (links, "./"). Empty paths name nothing.
bool same_file(const std::string& a, const std::string& b);

// (option, path) pairs: a UsageError when two outputs, or an output and an input, are one
// file ("--out x.svm is also --data"): the output would replace the other.
using NamedPaths = std::vector<std::pair<std::string, std::string>>;
void refuse_shared_files(const NamedPaths& outputs, const NamedPaths& inputs);

// --progress auto|always|never into `mode`; `what` says what it shows on stderr.
CLI::Option* add_progress_option(CLI::App* app, std::string& mode, const std::string& what);
// Whether --progress `mode` shows progress on stderr: always, or auto on a terminal.
bool progress_on_stderr(const std::string& mode);

struct OutputFlags {
  std::string format = "table";
};
void add_format_option(CLI::App* app, OutputFlags& flags);

// The objective and the data it is built on: --plugin (required), --param, --data,
// --reader, --reader-param. Each command words its help, so the texts are passed in.
struct ObjectiveDataFlags {
  std::string plugin, data, reader;
  std::vector<std::string> params, reader_params;
};
struct ObjectiveDataHelp {
  const char* plugin;
  const char* param;
  const char* data;
  const char* reader;
};
void add_objective_data_options(CLI::App* app, ObjectiveDataFlags& flags,
                                const ObjectiveDataHelp& help);
// Fills objective, data, reader and their parameters (--param first, for its errors).
void apply(const ObjectiveDataFlags& flags, core::TrainOptions& options);

// --target and --target-rel (mutually exclusive), and --fstar, which commands place
// elsewhere among their options (add it with add_fstar_option).
struct TargetFlags {
  std::optional<double> target, target_rel, fstar;
};
void add_target_options(CLI::App* app, TargetFlags& flags, const char* target_help,
                        const char* target_rel_help);
void add_fstar_option(CLI::App* app, TargetFlags& flags, const char* help);
void apply(const TargetFlags& flags, core::TrainOptions& options);

// --threads, 0 to 4096 (0 = all cores).
void add_threads_option(CLI::App* app, int& threads);

// Caps every TBB parallel region of the process while alive, evaluation included;
// no cap for threads <= 0.
class ThreadCap {
 public:
  explicit ThreadCap(int threads) {
    if (threads > 0)
      cap_.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  }

 private:
  std::optional<tbb::global_control> cap_;
};

// An option whose value is one of `names`, stored in `target` as its enum value. The
// option keeps the name as given (so --print-config writes names, not numbers); an
// unknown name is a usage error listing the choices.
template <class Target, class Enum>
CLI::Option* add_enum_option(CLI::App* app, const std::string& flag, Target& target,
                             const std::vector<std::pair<std::string, Enum>>& names,
                             const std::string& what, const std::string& help) {
  return app
      ->add_option_function<std::string>(
          flag,
          [&target, names](const std::string& value) {
            for (const auto& [name, code] : names)
              if (name == value) target = code;
          },
          help)
      ->check(CLI::Validator(
          [names, what](std::string& value) -> std::string {
            std::string list;
            for (const auto& [name, code] : names) {
              if (name == value) return {};
              list += (list.empty() ? "" : ", ") + name;
            }
            return "unknown " + what + " '" + value + "'; available: " + list;
          },
          "", ""));
}

// A seed: a whole number >= 0 (an unsigned option would take -1 as 2^64 - 1).
inline CLI::Validator seed_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::uint64_t seed = 0;
        const char* end = value.data() + value.size();
        const auto [stop, error] = std::from_chars(value.data(), end, seed);
        return error == std::errc() && stop == end && !value.empty()
                   ? std::string()
                   : "must be a whole number from 0 to 18446744073709551615, not '" + value + "'";
      },
      "", "");
}

// "a, b or c", as help texts list choices.
std::string or_list(const std::vector<std::string>& names);

}  // namespace localsgd::cli
