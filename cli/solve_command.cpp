// `localsgd solve`: f* and x* of the full objective, by the exact solver.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/loading.hpp"
#include "localsgd/core/make_model.hpp"
#include "localsgd/core/model_io.hpp"
#include "localsgd/core/plugins.hpp"
#include "localsgd/core/report.hpp"
#include "localsgd/core/solve.hpp"

namespace localsgd::cli {
namespace {

struct SolveFlags {
  ObjectiveDataFlags source;
  std::string out;
  OutputFlags output;
};

void run_solve(const SolveFlags& flags) {
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  const Manifest& manifest = core::load_plugin(flags.source.plugin, PluginKind::objective);
  const ParamMap params = collect_params("--param", flags.source.params);
  const Dataset data =
      core::load_dataset(flags.source.data, flags.source.reader,
                         collect_params("--reader-param", flags.source.reader_params));
  const auto objective = core::build_objective(manifest, params, data);
  if (!core::call_plugin(manifest, "curvature", [&] { return objective->curvature().convex; }))
    throw UsageError("objective '" + std::string(manifest.name) +
                     "' does not declare itself convex; solve finds the optimum of convex "
                     "objectives only");
  const core::SolveResult r =
      core::call_plugin(manifest, "solve", [&] { return core::solve(*objective, data.view()); });
  if (!flags.out.empty()) {
    core::save_model(flags.out, core::make_model(manifest, params, *objective, data.cols, r.x));
  }
  nlohmann::ordered_json e;
  e["event"] = "solve";
  e["schema"] = 1;
  e["plugin"] = manifest.name;
  e["data"] = data.source;
  e["rows"] = data.rows();
  e["cols"] = data.cols;
  e["dimension"] = r.x.size();
  e["method"] = r.method;
  e["fstar"] = r.fstar;
  e["grad_norm"] = r.grad_norm;
  e["iterations"] = r.iterations;
  e["model"] = flags.out.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(flags.out);
  e["seconds"] = r.seconds;
  core::print_event(std::cout, format, e);
}

}  // namespace

void set_solve_command(CLI::App& app) {
  auto flags = std::make_shared<SolveFlags>();
  CLI::App* solve = app.add_subcommand("solve", "Compute f* and x* of the full objective exactly");
  add_objective_data_options(
      solve, flags->source,
      {"objective plugin: name or path", "objective parameter key=value (repeatable)",
       "data file (default: embedded synthetic data)", "reader plugin"});
  solve->add_option("--out", flags->out, "write x* to this model file (atomically)");
  add_format_option(solve, flags->output);
  solve->callback([flags] { run_solve(*flags); });
}

}  // namespace localsgd::cli
