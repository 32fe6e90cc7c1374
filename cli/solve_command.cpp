// `localsgd solve`: f* and x* of the full objective, by the exact solver.
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/commands.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "progress_bar.hpp"

namespace localsgd::cli {
namespace {

struct SolveFlags {
  ObjectiveDataFlags source;
  std::string out;
  std::string progress = "auto";
  OutputFlags output;
};

void run_solve(const SolveFlags& flags) {
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  core::TrainOptions options;
  apply(flags.source, options);
  refuse_shared_files({{"--out", flags.out}}, {{"--data", options.data}, {"--test", options.test}});
  if (!flags.out.empty()) core::check_output_path(flags.out);  // before the solve, not after it
  const core::Problem problem(core::ProblemSpec::of(options));
  // Loading and the convexity check (a power iteration over the data for the linear
  // models) are not interrupted gracefully: a signal then ends the process at once, with
  // nothing to write. Then the first SIGINT/SIGTERM stops the solve within its
  // iteration, with a message and nothing written (a second one ends it at once).
  core::check_solvable(problem);
  const core::GracefulInterrupts graceful;
  std::optional<SolveMeter> meter;
  if (progress_on_stderr(flags.progress)) meter.emplace(std::cerr);
  core::SolveOptions solver;
  const auto stop_on_signal = [&](std::int64_t iteration, const char* method) {
    if (const int signal = core::GracefulInterrupts::flag()->load(); signal != 0)
      throw Interrupted(
          core::exit_code_of_signal(signal),
          std::string("solve interrupted by ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
              " at iteration " + std::to_string(iteration) + " of " + method +
              (flags.out.empty() ? std::string() : "; " + flags.out + " was not written"));
  };
  solver.on_iteration = [&](const core::SolveIteration& it) {
    stop_on_signal(it.iteration, it.method);
    if (meter) meter->iteration(it);
  };
  // A long iteration (a large dense Hessian) still sees a signal and moves the clock.
  solver.on_work = [&](std::int64_t iteration, const char* method) {
    stop_on_signal(iteration, method);
    if (meter) meter->working(method);
  };
  const nlohmann::ordered_json result = core::solve_problem(problem, flags.out, solver);
  if (meter) meter->close(result["iterations"].get<std::int64_t>());
  core::print_event(std::cout, format, result);
}

}  // namespace

void set_solve_command(CLI::App& app) {
  auto flags = std::make_shared<SolveFlags>();
  CLI::App* solve = app.add_subcommand("solve", "Compute f* and x* of the full objective exactly");
  solve->footer(
      "Examples:\n"
      "  localsgd solve --plugin logreg --data w8a                  # prints f*\n"
      "  localsgd solve --plugin ridge --data abalone_scale --out xstar.model --format json");
  add_objective_data_options(
      solve, flags->source,
      {"objective plugin: name or path", "objective parameter key=value (repeatable)",
       "data file (default: embedded synthetic data)", "reader plugin"});
  solve->add_option("--out", flags->out, "write x* to this model file (atomically)");
  add_format_option(solve, flags->output);
  add_progress_option(solve, flags->progress,
                      "iterations, the bound on f - f*, elapsed time and ETA");
  solve->callback([flags] { run_solve(*flags); });
}

}  // namespace localsgd::cli
