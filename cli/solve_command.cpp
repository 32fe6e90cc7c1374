// `localsgd solve`: f* and x* of the full objective, by the exact solver.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/commands.hpp"

namespace localsgd::cli {
namespace {

struct SolveFlags {
  ObjectiveDataFlags source;
  std::string out;
  OutputFlags output;
};

void run_solve(const SolveFlags& flags) {
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  core::TrainOptions options;
  apply(flags.source, options);
  const core::Problem problem(core::ProblemSpec::of(options));
  core::print_event(std::cout, format, core::solve_problem(problem, flags.out));
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
  solve->callback([flags] { run_solve(*flags); });
}

}  // namespace localsgd::cli
