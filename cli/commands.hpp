// One function per subcommand: it declares the subcommand's options on `app` and sets a
// callback that runs it. Errors are thrown and turned into exit codes by main().
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace localsgd::cli {

// The whole command line: localsgd's own options (--config, --version) and every
// subcommand. main() and the config fuzzer (tests/fuzz/fuzz_config.cpp) build it alike.
void build_app(CLI::App& app);

// `localsgd train --config F ...` is `localsgd --config F train ...`: --config is localsgd's
// own option (its [train] section sets train's), so one written after the subcommand
// (`--config F` or `--config=F`, before any `--`) is moved in front of it. `args` is argv,
// program name first.
std::vector<std::string> config_before_subcommand(std::vector<std::string> args);

void set_train_command(CLI::App& app);
void set_solve_command(CLI::App& app);
void set_sweep_command(CLI::App& app);
void set_eval_commands(CLI::App& app);  // eval and predict
void set_plugins_command(CLI::App& app);
void set_data_command(CLI::App& app);   // data inspect and data convert
void set_model_command(CLI::App& app);  // model export and model import (LIBLINEAR)
void set_plot_command(CLI::App& app);   // curves of finished runs

}  // namespace localsgd::cli
