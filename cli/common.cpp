#include "common.hpp"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "localsgd/atomic_file.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/plugins/plugins.hpp"

namespace localsgd::cli {

ParamMap collect_params(const char* option, const std::vector<std::string>& items) {
  ParamMap params;
  for (const std::string& item : items) core::add_key_value(params, option, item);
  return params;
}

namespace {

// The file a path stands for once its symbolic links are followed, as a writer follows
// them (write_file_atomically): also to a target that does not exist yet.
std::string followed(const std::string& path) {
  try {
    return localsgd::detail::resolve_output(path).string();
  } catch (const std::exception&) {  // a directory, device or link loop: judged as given
    return path;
  }
}

}  // namespace

bool same_file(const std::string& given_a, const std::string& given_b) {
  if (given_a.empty() || given_b.empty()) return false;
  const std::string a = followed(given_a), b = followed(given_b);
  std::error_code ec;
  if (std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec))
    return std::filesystem::equivalent(a, b, ec);
  const auto normal = [](const std::string& p) {
    std::error_code error;
    const auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(p, error), error);
    return error ? std::filesystem::path(p).lexically_normal() : path;
  };
  return normal(a) == normal(b);
}

void refuse_shared_files(const NamedPaths& outputs, const NamedPaths& inputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot capture those.
    const std::string& option = outputs[i].first;
    const std::string& path = outputs[i].second;
    const auto clash = [&](const std::pair<std::string, std::string>& other) {
      if (same_file(path, other.second))
        throw UsageError(option + " " + path + " is also " + other.first + " " + other.second +
                         ": give each output a file of its own");
    };
    for (std::size_t j = 0; j < i; ++j) clash(outputs[j]);
    for (const auto& input : inputs) clash(input);
  }
}

nlohmann::ordered_json given_options(const CLI::App& command) {
  nlohmann::ordered_json given = nlohmann::ordered_json::object();
  for (const CLI::Option* option : command.get_options({})) {
    const std::vector<std::string> values = option->reduced_results();
    if (values.empty() || option->get_single_name().empty()) continue;
    given[option->get_single_name()] = values.size() == 1 && option->get_items_expected_max() <= 1
                                           ? nlohmann::ordered_json(values.front())
                                           : nlohmann::ordered_json(values);
  }
  for (const CLI::App* group : command.get_subcommands({}))
    if (group->get_name().empty())  // option groups
      given.update(given_options(*group));
  return given;
}

CLI::Option* add_progress_option(CLI::App* app, std::string& mode, const std::string& what) {
  return app
      ->add_option("--progress", mode,
                   what + " on stderr: auto (when it is a terminal), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

bool progress_on_stderr(const std::string& mode) {
  return mode == "always" || (mode == "auto" && isatty(STDERR_FILENO) == 1);
}

void add_format_option(CLI::App* app, OutputFlags& flags) {
  app->add_option("--format", flags.format, "table, json or csv")->capture_default_str();
}

void add_objective_data_options(CLI::App* app, ObjectiveDataFlags& flags,
                                const ObjectiveDataHelp& help) {
  app->add_option("--plugin", flags.plugin, help.plugin)->required();
  app->add_option("--param", flags.params, help.param);
  app->add_option("--data", flags.data, help.data);
  app->add_option("--reader", flags.reader, help.reader);
  app->add_option("--reader-param", flags.reader_params, "reader parameter key=value");
}

void apply(const ObjectiveDataFlags& flags, core::TrainOptions& options) {
  options.objective.name = flags.plugin;
  options.data = flags.data;
  options.reader.name = flags.reader;
  options.objective.params = collect_params("--param", flags.params);
  options.reader.params = collect_params("--reader-param", flags.reader_params);
}

void add_target_options(CLI::App* app, TargetFlags& flags, const char* target_help,
                        const char* target_rel_help) {
  auto* target = app->add_option("--target", flags.target, target_help);
  app->add_option("--target-rel", flags.target_rel, target_rel_help)->excludes(target);
}

void add_fstar_option(CLI::App* app, TargetFlags& flags, const char* help) {
  app->add_option("--fstar", flags.fstar, help);
}

void apply(const TargetFlags& flags, core::TrainOptions& options) {
  options.target = flags.target;
  options.target_rel = flags.target_rel;
  options.fstar = flags.fstar;
}

void add_threads_option(CLI::App* app, int& threads) {
  app->add_option("--threads", threads, "cap on threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
}

std::string or_list(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

}  // namespace localsgd::cli
