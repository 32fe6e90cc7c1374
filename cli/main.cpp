// localsgd: Local SGD from the command line. See README.md and `localsgd --help`.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "localsgd/core/engine/backend.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/suggest.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "localsgd/errors.hpp"
#include "toml_config.hpp"

namespace {

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// The --config file given, if any. The raw value: as<>() would run --config's check again,
// and throw, inside main's handler.
std::optional<std::string> config_file(const CLI::App& app) {
  const CLI::Option* config = app.get_config_ptr();
  if (config == nullptr || config->results().empty()) return std::nullopt;
  return config->results().front();
}

// CLI11 says "INI was not able to parse train.worker" for a config key that names no
// option ("trian.++" for a section without keys): say which file, and what to check.
std::string config_message(const CLI::App& app, std::string message) {
  const std::string file = config_file(app).value_or("the config");
  if (message.starts_with(localsgd::cli::kTomlErrorPrefix))
    return file + ":" + message.substr(std::strlen(localsgd::cli::kTomlErrorPrefix));
  const std::string prefix = "INI was not able to parse ";
  if (!message.starts_with(prefix)) return message;
  std::string key = message.substr(prefix.size());
  if (key.ends_with(".++")) key.resize(key.size() - 3);
  const auto toml =
      std::dynamic_pointer_cast<const localsgd::cli::TomlConfig>(app.get_config_formatter_base());
  const auto position = toml ? toml->key_position(key) : std::nullopt;
  return file + (position ? ":" + *position : "") + ": '" + key +
         "' is no option of localsgd (a misspelled key, or a section other than a "
         "subcommand's, e.g. [train])";
}

// The deepest subcommand on the command line, and its config section ("train").
std::pair<const CLI::App*, std::string> deepest_command(const CLI::App& app) {
  const CLI::App* command = &app;
  std::string section;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : command->get_subcommands())
      if (!sub->get_name().empty() && dynamic_cast<const CLI::Option_group*>(sub) == nullptr) {
        command = sub, deeper = true;
        section += (section.empty() ? "" : ".") + sub->get_name();
        break;
      }
  }
  return {command, section};
}

// CLI11 says "--steps excludes --epochs" whether the two came from the command line or
// the config: say where a config set them ("FILE:3:1: 'epochs' excludes 'steps' (line 2):
// give one of --steps and --epochs").
std::string excludes_message(const CLI::App& app, const std::string& message) {
  const std::string separator = " excludes ";
  const auto at = message.find(separator);
  const auto toml =
      std::dynamic_pointer_cast<const localsgd::cli::TomlConfig>(app.get_config_formatter_base());
  const std::optional<std::string> file = config_file(app);
  if (at == std::string::npos || !toml || !file) return message;
  // No structured binding: clang 14 (the fuzz build) cannot capture one in the lambda.
  const auto deepest = deepest_command(app);
  const CLI::App* command = deepest.first;
  const std::string& section = deepest.second;
  struct Place {
    std::string option, key, line, column;
  };
  // The option's config key and its line:column, when the config sets it.
  auto place_of = [&](const std::string& option) {
    Place place{option, "", "", ""};
    const CLI::Option* o = command->get_option_no_throw(option);
    if (o == nullptr) o = app.get_option_no_throw(option);
    if (o == nullptr) return place;
    std::vector<std::string> names = o->get_lnames();
    for (const std::string& n : o->get_snames()) names.push_back(n);
    for (const std::string& n : names)
      for (const std::string& key : {section.empty() ? n : section + "." + n, n})
        if (const auto position = toml->key_position(key)) {
          const auto colon = position->find(':');
          return Place{option, n, position->substr(0, colon), position->substr(colon + 1)};
        }
    return place;
  };
  Place first = place_of(message.substr(0, at));
  Place second = place_of(message.substr(at + separator.size()));
  if (first.key.empty() && second.key.empty()) return message;
  const std::string both = "give one of " + first.option + " and " + second.option;
  if (first.key.empty() || second.key.empty()) {
    const Place& in_file = first.key.empty() ? second : first;
    const Place& on_line = first.key.empty() ? first : second;
    return *file + ":" + in_file.line + ":" + in_file.column + ": '" + in_file.key + "' excludes " +
           on_line.option + " on the command line: " + both;
  }
  if (std::stoll(first.line) > std::stoll(second.line)) std::swap(first, second);
  return *file + ":" + second.line + ":" + second.column + ": '" + second.key + "' excludes '" +
         first.key + "' (line " + first.line + "): " + both;
}

// The options of the deepest subcommand on the command line, its option groups and
// localsgd's own, as written on a command line ("--workers", "-K").
std::vector<std::string> option_names(const CLI::App& app) {
  const CLI::App* command = deepest_command(app).first;
  std::vector<std::string> names;
  const auto add = [&](const CLI::App& from) {
    for (const CLI::Option* o : from.get_options()) {
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
      for (const std::string& n : o->get_snames()) names.push_back("-" + n);
    }
  };
  add(app);
  add(*command);
  for (const CLI::App* group : command->get_subcommands({}))
    if (dynamic_cast<const CLI::Option_group*>(group) != nullptr) add(*group);
  return names;
}

// " (did you mean --workers?)" for the first unexpected argument that looks like a
// misspelled option.
std::string option_suggestion(const CLI::App& app, const CLI::ParseError& error) {
  const auto* extras = dynamic_cast<const CLI::ExtrasError*>(&error);
  if (extras == nullptr) return "";
  const std::vector<std::string> names = option_names(app);
  for (const std::string& arg : app.remaining(true)) {
    if (!arg.starts_with("-")) continue;
    const std::string option = arg.substr(0, arg.find('='));
    if (const auto guess = localsgd::core::closest_match(option, names))
      return " (did you mean " + *guess + "?)";
  }
  return "";
}

// How long a process other than the first of a launch waits before it reports an error
// found before MPI started: enough for the first, which has the same command line in an
// ordinary launch, to print the same error and exit, whereupon the launcher ends the job.
constexpr auto kFirstProcessGrace = std::chrono::milliseconds(1500);

// Prints "localsgd: error: MESSAGE" once per job and returns `exit_code` (or ends the
// job). One process: it prints. A job of several processes:
//  - after MPI started, rank 0 prints an error the ranks agreed on (all stop with it); a
//    rank that met an error alone prints it, naming its rank, and ends the job, whose
//    other ranks would otherwise wait for it in their next exchange;
//  - before MPI started (the command line, a config file), the first process prints at
//    once; another prints, naming its rank, only if it is still running after a grace
//    period: when its command line differs from the first's (an mpirun of several
//    programs), which the launcher would otherwise end without a word.
int report_error(const std::string& message, int exit_code) {
  localsgd::core::exiting_with(exit_code);  // a launcher's SIGTERM now ends us silently
  if (localsgd::core::process_count() > 1) {
    const int rank = localsgd::core::process_rank();
    if (localsgd::core::error_stops_every_rank()) {
      if (rank == 0) std::cerr << "localsgd: error: " << message << '\n';
      return exit_code;
    }
    std::cerr << "localsgd: error: rank " << rank << " of " << localsgd::core::process_count()
              << ": " << message << '\n'
              << std::flush;
    localsgd::core::abort_every_rank(exit_code);
  }
  const int rank = localsgd::core::launched_rank();
  if (rank > 0) {
    std::this_thread::sleep_for(kFirstProcessGrace);
    std::cerr << "localsgd: error: rank " << rank << ": " << message << '\n';
    return exit_code;
  }
  std::cerr << "localsgd: error: " << message << '\n';
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  localsgd::core::install_signal_handlers();  // exit 130/143, no partial output file

  CLI::App app;
  localsgd::cli::build_app(app);

  try {
    // CLI11 would say only "A subcommand is required" for a mistyped command.
    const auto commands = app.get_subcommands([](CLI::App*) { return true; });
    if (argc > 1 && argv[1][0] != '-' &&
        std::none_of(commands.begin(), commands.end(),
                     [&](const CLI::App* c) { return c->get_name() == argv[1]; })) {
      std::vector<std::string> names;
      std::string list;
      for (const CLI::App* c : commands) {
        names.push_back(c->get_name());
        list += (list.empty() ? "" : ", ") + c->get_name();
      }
      const auto guess = localsgd::core::closest_match(argv[1], names);
      throw localsgd::UsageError(std::string("unknown command '") + argv[1] + "'" +
                                 (guess ? " (did you mean '" + *guess + "'?)" : "") +
                                 "; commands: " + list + " (see localsgd --help)");
    }
    const std::vector<std::string> args =
        localsgd::cli::config_before_subcommand({argv, argv + argc});
    std::vector<char*> pointers;
    for (const std::string& a : args) pointers.push_back(const_cast<char*>(a.c_str()));
    app.parse(static_cast<int>(pointers.size()), pointers.data());
    // Output that did not reach its destination (a full disk, a closed stdout) is a
    // failure, never exit 0: the stream's state says whether any write failed. (A pipe
    // closed by its reader ends the process by SIGPIPE first, as for any Unix filter.)
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
      throw localsgd::DataError("standard output", 0, 0,
                                "write error (disk full, or standard output closed?)");
    return localsgd::kExitOk;
  } catch (const CLI::Success& e) {
    // --help, --version (CallForHelp is a Success): once per job, by its first process.
    return localsgd::core::launched_rank() > 0 ? localsgd::kExitOk : app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string message = dynamic_cast<const CLI::ExcludesError*>(&e) != nullptr
                                    ? excludes_message(app, e.what())
                                    : config_message(app, e.what());
    return report_error(one_line(message) + option_suggestion(app, e) + " (see localsgd --help)",
                        localsgd::kExitUsage);
  } catch (...) {
    const localsgd::ErrorReport report = localsgd::describe_current_exception();
    return report_error(one_line(report.message), report.exit_code);
  }
}
