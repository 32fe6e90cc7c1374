#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "localsgd/core/io/input_file.hpp"
#include "localsgd/core/version.hpp"
#include "toml_config.hpp"

namespace localsgd::cli {

void build_app(CLI::App& app) {
  app.description(
      "localsgd: Local SGD (Stich, ICLR 2019) with plugin objectives, readers and schedules");
  app.name("localsgd");
  app.require_subcommand(1);
  // Before the subcommands are added: each takes its parent's config reader.
  app.config_formatter(std::make_shared<TomlConfig>(&app));
  app.set_version_flag("--version", std::string("localsgd ") + core::version());
  app.set_config("--config", "", "TOML file of options; a [train] section sets train's")
      ->check(
          [](const std::string& path) {
            // A config is small: refuse a device or a huge file rather than read it whole.
            const auto problem = core::input_file_problem(path, 16u << 20);
            return problem ? path + " " + *problem + ", expected a config file" : std::string();
          },
          "FILE");
  // A key or section of a config file that names no option is an error, not ignored:
  // `worker = 3` for `workers` silently ran with K = 4.
  app.allow_config_extras(CLI::config_extras_mode::error);
  set_train_command(app);
  set_solve_command(app);
  set_sweep_command(app);
  set_eval_commands(app);
  set_plugins_command(app);
  set_data_command(app);
  set_model_command(app);
  set_plot_command(app);
}

std::vector<std::string> config_before_subcommand(std::vector<std::string> args) {
  std::size_t subcommand = 1;  // the first word that is neither an option nor --config's value
  while (subcommand < args.size() && args[subcommand].starts_with("-"))
    subcommand += args[subcommand] == "--config" ? 2 : 1;
  if (subcommand >= args.size()) return args;
  std::vector<std::string> config, rest;
  for (std::size_t i = subcommand + 1; i < args.size(); ++i) {
    if (args[i] == "--") {  // what follows is not an option
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (args[i] == "--config" && i + 1 < args.size()) {
      config.insert(config.end(), {args[i], args[i + 1]});
      ++i;
    } else if (args[i].starts_with("--config=")) {
      config.push_back(args[i]);
    } else {
      rest.push_back(args[i]);
    }
  }
  std::vector<std::string> out(args.begin(),
                               args.begin() + static_cast<std::ptrdiff_t>(subcommand));
  out.insert(out.end(), config.begin(), config.end());
  out.push_back(args[subcommand]);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace localsgd::cli
