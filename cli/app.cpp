#include <string>

#include "commands.hpp"
#include "localsgd/core/io/input_file.hpp"
#include "localsgd/core/version.hpp"

namespace localsgd::cli {

void build_app(CLI::App& app) {
  app.description(
      "localsgd: Local SGD (Stich, ICLR 2019) with plugin objectives, readers and schedules");
  app.name("localsgd");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("localsgd ") + core::version());
  app.set_config("--config", "", "TOML/INI file of options; a [train] section sets train's")
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
}

}  // namespace localsgd::cli
