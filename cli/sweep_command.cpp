// `localsgd sweep`: a grid over K, H and b, each point run to a target from several
// seeds, with speedups, optional step-size tuning, and a plot.
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/plot.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "localsgd/core/run/sweep.hpp"
#include "progress_bar.hpp"

namespace localsgd::cli {
namespace {

struct SweepFlags {
  core::SweepRequest request;
  ObjectiveDataFlags source;
  TargetFlags targets;
  std::vector<std::string> lr_params, partition_params;
  std::vector<std::string> lr_grid;  // one axis per --lr-grid
  std::string out, plot, resume;
  std::string plot_speedup = "steps";
  std::string progress = "auto";
  OutputFlags output;
};

// "c=0.25,0.5,1" -> an axis with key "c" and values {0.25, 0.5, 1}
core::SweepRequest::LrAxis parse_lr_axis(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("--lr-grid " + text + ": expected KEY=v1,v2,...");
  core::SweepRequest::LrAxis axis{text.substr(0, eq), {}};
  std::stringstream values(text.substr(eq + 1));
  std::string item;
  ParamMap probe;
  while (std::getline(values, item, ',')) {
    probe.set(axis.key, item);
    try {
      axis.values.push_back(probe.positive_number(axis.key, 0));
    } catch (const ParamError& e) {
      throw UsageError(std::string("--lr-grid ") + e.what());
    }
  }
  if (axis.values.empty()) throw UsageError("--lr-grid " + text + ": no values");
  return axis;
}

void run_sweep_command(SweepFlags& flags, const CLI::App& command) {
  core::SweepRequest& r = flags.request;
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  apply(flags.source, r.base);
  r.base.lr_params = collect_params("--lr-param", flags.lr_params);
  r.base.partition_params = collect_params("--partition-param", flags.partition_params);
  apply(flags.targets, r.base);
  for (const std::string& axis : flags.lr_grid) r.lr_grid.push_back(parse_lr_axis(axis));
  // The options as given, recorded in the stream's first event (--resume compares the
  // sweep's identity, values not texts), but for the outputs' and the machine's.
  nlohmann::ordered_json options = given_options(command);
  for (const char* output :
       {"format", "out", "plot", "plot-speedup", "progress", "resume", "threads"})
    options.erase(output);
  refuse_shared_files({{"--out", flags.out}, {"--plot", flags.plot}}, {{"--data", r.base.data}});
  if (!flags.out.empty()) core::check_output_path(flags.out);  // before the sweep, not after it
  if (!flags.resume.empty() && !flags.out.empty() && format != core::OutputFormat::json &&
      same_file(flags.resume, flags.out))
    throw UsageError("--out " + flags.out + " is the stream --resume reads: with --format " +
                     flags.output.format +
                     " it would become a table no sweep can resume; add "
                     "--format json");

  if (!flags.plot.empty()) {
    core::check_plot_file(flags.plot, "--plot");  // before the runs, not after them
    if (r.theory && flags.plot_speedup == "time")
      std::cerr << "localsgd: warning: --plot-speedup time draws no Theorem 2.2 curve (the "
                   "theorem counts steps); its columns are in the table\n";
  }
  const ThreadCap cap(r.base.threads);
  // The first SIGINT/SIGTERM stops the sweep: runs stop at their next step boundary, the
  // finished points are printed and written, and the exit code is 130 or 143.
  const core::GracefulInterrupts graceful;
  std::optional<RunCounter> counter;
  if (progress_on_stderr(flags.progress)) counter.emplace(std::cerr);
  const bool rows_share_the_terminal = counter && isatty(STDOUT_FILENO) == 1;

  // Every event goes to stdout as it happens and into `record`, which --out holds after
  // each point (replaced atomically: a killed sweep leaves its finished points there).
  std::ostringstream record;
  core::EventPrinter printer(std::cout, format), recorder(record, format);
  printer.csv_columns(core::sweep_csv_columns(r));
  recorder.csv_columns(core::sweep_csv_columns(r));
  const auto emit = [&](const nlohmann::ordered_json& event) {
    if (rows_share_the_terminal) counter->clear();
    printer.print(event);
    recorder.print(event);
    if (!flags.out.empty())
      core::write_file_atomically(flags.out, [&](std::ostream& out) { out << record.str(); });
  };

  core::SweepObserver observer;
  if (!flags.resume.empty())
    r.resume = [&](const nlohmann::ordered_json& identity) {
      return core::resume_points(flags.resume, r, identity);
    };
  // The header --resume reads back (JSON only: it is not a row of a table).
  observer.started = [&](const nlohmann::ordered_json& identity) {
    if (format == core::OutputFormat::json) emit(core::sweep_start_event(identity, options));
  };
  if (counter)
    observer.progress = [&](std::size_t done, std::size_t total) {
      counter->finished(done, total);
    };
  observer.point = [&](const core::SweepPoint& point) { emit(core::to_json(point, r)); };
  const core::SweepResult result = core::run_sweep(r, observer);
  if (counter) counter->close();

  if (format != core::OutputFormat::table) emit(core::sweep_summary_event(result, r));
  if (format == core::OutputFormat::table && result.theory) {
    std::ostringstream line;
    line << "theory: L = " << result.theory->L << ", mu = " << result.theory->mu
         << ", sigma^2 = " << result.theory->sigma2 << ", G^2 = " << result.theory->G2
         << ", |x0 - x*|^2 = " << result.theory->distance2 << '\n';
    std::cout << line.str() << std::flush;
    record << line.str();
    if (!flags.out.empty())
      core::write_file_atomically(flags.out, [&](std::ostream& out) { out << record.str(); });
  }
  if (!flags.plot.empty() && !result.points.empty())
    core::plot_sweep(
        result, flags.plot,
        flags.plot_speedup == "time" ? core::SweepPlotSpeedup::time : core::SweepPlotSpeedup::steps,
        r.rho);
  if (result.interrupted != 0)
    throw Interrupted(
        core::exit_code_of_signal(result.interrupted),
        "sweep interrupted by " + std::string(result.interrupted == SIGINT ? "SIGINT" : "SIGTERM") +
            ": " + std::to_string(result.points.size()) + " of " +
            std::to_string(result.planned_points) + " points finished (those are shown" +
            (flags.out.empty() ? std::string() : " and written to " + flags.out) + "); " +
            (format == core::OutputFormat::json && !flags.out.empty()
                 ? "--resume " + flags.out + " with the same options runs the others"
                 : std::string("with --format json --out FILE, --resume FILE would run only the "
                               "others")));
}

}  // namespace

void set_sweep_command(CLI::App& app) {
  auto flags = std::make_shared<SweepFlags>();
  core::SweepRequest& r = flags->request;
  CLI::App* sweep = app.add_subcommand("sweep", "Speedup of Local SGD over a grid of K, H and b");
  sweep->footer(
      "Example (the paper's experiment, README):\n"
      "  localsgd sweep --plugin logreg --data w8a -K 1,2,4,8,16 -H 1,16,256 -b 4 \\\n"
      "      --target 1e-3 --repeats 3 --lr invtime --lr-grid c=0.5,1,2,4 --plot speedup.svg");
  add_objective_data_options(sweep, flags->source,
                             {"objective plugin", "objective parameter key=value",
                              "training data (default: embedded synthetic data)", "reader plugin"});
  sweep->add_option("--workers,-K", r.workers, "values of K, e.g. 1,2,4,8")
      ->delimiter(',')
      ->capture_default_str();
  sweep->add_option("--local-steps,-H", r.local_steps, "values of H")
      ->delimiter(',')
      ->capture_default_str();
  sweep->add_option("--batch,-b", r.batches, "values of b")->delimiter(',')->capture_default_str();
  add_target_options(sweep, flags->targets, "run each point until f(x_hat) - f* <= EPS",
                     "... or (f(x_hat) - f*)/|f*| <= EPS");
  add_fstar_option(sweep, flags->targets, "known f* (default: solved once and cached)");
  sweep->add_option("--repeats", r.repeats, "seeds per point (median reported)")
      ->capture_default_str();
  add_enum_option(sweep, "--lr", r.base.lr, core::step_rule_names(), "step size rule",
                  "step size rule")
      ->default_str("auto");
  sweep->add_option("--lr-param", flags->lr_params, "step size parameter key=value");
  sweep
      ->add_option("--lr-grid", flags->lr_grid,
                   "tune a step-size parameter per point, e.g. c=0.5,1,2,4; repeat it to "
                   "tune the product of several (--lr-grid eta0=1,4 --lr-grid c=0.25,1)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sweep->add_option("--rho", r.rho, "vector transfer / single-sample gradient time")
      ->capture_default_str();
  sweep->add_option("--max-epochs", r.max_epochs, "budget per run in passes over the data")
      ->capture_default_str();
  sweep->add_option("--evals-per-epoch", r.evals_per_epoch, "resolution of steps to the target")
      ->capture_default_str();
  add_enum_option(sweep, "--sampling", r.base.sampling, core::sampling_names(), "sampling",
                  "shuffle or iid (as in the paper)")
      ->default_str("shuffle");
  add_enum_option(sweep, "--partition", r.base.partition, core::partition_kind_names(), "partition",
                  "rows per worker: shared, shard, contiguous or label-skew")
      ->default_str("shared");
  sweep->add_option("--partition-param", flags->partition_params,
                    "partition parameter key=value (label-skew: alpha, default 0.5)");
  sweep->add_option("--avg-shift", r.base.avg_shift,
                    "shift a of the output weights (a+t)^2 (default: the rule's, else H)");
  add_enum_option(sweep, "--measure", r.measure,
                  std::vector<std::pair<std::string, core::SweepRequest::Measured>>{
                      {"x-hat", core::SweepRequest::Measured::x_hat},
                      {"x-bar", core::SweepRequest::Measured::x_bar}},
                  "model",
                  "model that must reach EPS: x-hat (weighted average) or x-bar (last average)")
      ->default_str("x-hat");
  sweep->add_option("--seed", r.base.seed, "first seed")
      ->check(seed_validator())
      ->capture_default_str();
  add_threads_option(sweep, r.base.threads);
  sweep->add_flag("--theory", r.theory,
                  "add Theorem 2.2's steps and speedup (L, mu from the objective; sigma^2 at x*; "
                  "G^2 along a K = 1 run)");
  add_format_option(sweep, flags->output);
  sweep->add_option("--out", flags->out, "also write the table to this file (atomically)");
  CLI::Option* plot = sweep->add_option("--plot", flags->plot,
                                        "draw speedup against K (one curve per H) to .svg or .png");
  add_progress_option(sweep, flags->progress, "runs finished, elapsed time and ETA");
  sweep
      ->add_option("--plot-speedup", flags->plot_speedup,
                   "what --plot draws: speedup in steps, or in the modelled time of --rho")
      ->check(CLI::IsMember({"steps", "time"}))
      ->capture_default_str()
      ->needs(plot);
  sweep->add_option("--resume", flags->resume,
                    "continue the sweep whose JSON stream (--format json, stdout or --out) is "
                    "in this file: its finished points are taken, not run again");
  sweep->callback([flags, sweep] { run_sweep_command(*flags, *sweep); });
}

}  // namespace localsgd::cli
