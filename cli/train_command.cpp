// `localsgd train`: Local SGD on one objective, data set and schedule. Flags map onto
// core::TrainOptions (checked there, in one place); core::train runs; the summary prints.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "localsgd/core/run/train.hpp"
#include "progress_bar.hpp"

namespace localsgd::cli {
namespace {

struct TrainFlags {
  core::TrainOptions options;
  ObjectiveDataFlags source;
  TargetFlags targets;
  std::vector<std::string> schedule_params, lr_params, partition_params;
  std::string worker_speeds;
  OutputFlags output;
  bool quiet = false;
  bool verbose = false;
  bool print_config = false;
  std::string progress = "auto";
};

// "1,1,0.5,0.25" or "random" (seeded).
void parse_worker_speeds(const std::string& text, core::AsyncOptions& async) {
  if (text.empty()) return;
  if (text == "random") {
    async.random_speeds = true;
    return;
  }
  std::stringstream list(text);
  std::string item;
  ParamMap probe;
  while (std::getline(list, item, ',')) {
    probe.set("speed", item);
    try {
      async.speeds.push_back(probe.positive_number("speed", 1));
    } catch (const ParamError&) {
      throw UsageError("--worker-speeds " + text + ": '" + item + "' is not a positive number");
    }
  }
}

// --progress auto: a bar on stderr when it is a terminal, unless progress events print
// on the same terminal (the bar and the table would break each other's lines).
bool wants_progress_bar(const TrainFlags& flags, core::OutputFormat format) {
  if (flags.progress == "never") return false;
  if (flags.progress == "always") return true;
  const core::TrainOptions& o = flags.options;
  const bool events = (!flags.quiet || format == core::OutputFormat::json) &&
                      (o.eval_every > 0 || o.targeted() || !o.plot.empty() || o.fit_rate);
  return isatty(STDERR_FILENO) == 1 && !flags.quiet && !(events && isatty(STDOUT_FILENO) == 1);
}

void run_train(TrainFlags& flags, const CLI::App& command) {
  core::TrainOptions& o = flags.options;
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  apply(flags.source, o);
  o.schedule.params = collect_params("--schedule-param", flags.schedule_params);
  o.lr_params = collect_params("--lr-param", flags.lr_params);
  o.partition_params = collect_params("--partition-param", flags.partition_params);
  parse_worker_speeds(flags.worker_speeds, o.async);
  apply(flags.targets, o);

  const CLI::App* root = &command;
  while (root->get_parent() != nullptr) root = root->get_parent();
  const CLI::Option* config = root->get_config_ptr();
  const std::string config_file =
      config != nullptr && !config->results().empty() ? config->results().front() : "";
  // The synthetic reader writes its w* to truth=FILE when it generates the data.
  const bool generated =
      o.data.empty() && (o.reader.name.empty() || core::generates_rows(o.reader.name));
  const std::string truth = generated ? o.reader.params.text("truth", "") : "";
  refuse_shared_files(
      {{"--out", o.out},
       {"--plot", o.plot},
       {"--checkpoint", o.checkpoint},
       {"--reader-param truth", truth}},
      {{"--data", o.data}, {"--test", o.test}, {"--init", o.init}, {"--config", config_file}});
  // A run may resume from the checkpoint it goes on writing, but not write a model over it.
  refuse_shared_files({{"--out", o.out}, {"--plot", o.plot}, {"--reader-param truth", truth}},
                      {{"--resume", o.resume}});
  if (flags.print_config) {
    // The options as given (command line and --config), once they pass the checks of the
    // options themselves (plugins and their parameters are checked when a run loads them);
    // `localsgd train --config FILE` reads this back.
    if (const auto error = o.validate()) throw UsageError(*error);
    if (core::launched_rank() <= 0)  // once per mpirun, which merges the ranks' stdout
      std::cout << "[train]\n" << command.config_to_str(false, false);
    return;
  }
  const ThreadCap cap(o.threads);
  core::EventPrinter printer(std::cout, format);
  // One table whatever the options: the same columns with or without progress rows.
  printer.csv_columns(core::train_csv_columns());
  bool print = !flags.quiet || format == core::OutputFormat::json;
  // The first SIGINT/SIGTERM stops the run at a step boundary, with its model, checkpoint
  // and summary written (core/run/interrupt.hpp); under MPI, a signal to any rank stops
  // all of them so.
  const core::GracefulInterrupts graceful;
  std::optional<ProgressBar> bar;
  // Rank 0 draws it (MPI has not started yet: the launcher says which rank this is).
  if (core::launched_rank() <= 0 && wants_progress_bar(flags, format)) bar.emplace(std::cerr);
  std::vector<core::TrainCallback*> callbacks;
  if (bar) callbacks.push_back(&*bar);
  const core::TrainOutcome outcome = core::train(
      o,
      [&](const nlohmann::ordered_json& event) {
        if (print && (core::process_rank() == 0 || flags.verbose)) printer.print(event);
      },
      callbacks);
  print = print && (core::process_rank() == 0 || flags.verbose);
  if (print) printer.print(outcome.json());
  if (outcome.interrupted != 0) {
    std::string message = "interrupted by " + outcome.summary.interrupted + " after step " +
                          std::to_string(outcome.summary.steps) + "; ";
    if (!o.out.empty()) message += "the model in " + o.out + " is that step's x_hat; ";
    message += o.checkpoint.empty()
                   ? "no checkpoint was asked for (--checkpoint FILE)"
                   : "continue with --resume " + o.checkpoint + " and the same options";
    throw Interrupted(core::exit_code_of_signal(outcome.interrupted), message);
  }
}

}  // namespace

void set_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  core::TrainOptions& o = flags->options;
  CLI::App* train = app.add_subcommand("train", "Run Local SGD");
  train->footer(
      "Examples:\n"
      "  localsgd train --plugin logreg                  # embedded synthetic data, defaults\n"
      "  localsgd train --plugin logreg --data w8a -K 8 -H 16 --epochs 20 --out w8a.model\n"
      "  localsgd train --plugin softmax --data dna.scale --test dna.scale.t --target-rel 1e-3\n"
      "  localsgd train --plugin logreg --data a9a --lr constant --lr-param eta=0.5 --format json\n"
      "  mpirun -np 2 --bind-to none localsgd train --plugin logreg --data w8a --backend mpi\n"
      "Exit codes: 0 ok, 1 failure, 2 usage, 3 data, 4 plugin, 130/143 interrupted (README).");

  auto* model = train->add_option_group("Model and data");
  add_objective_data_options(
      model, flags->source,
      {"objective plugin: name or path to a .so", "objective parameter key=value (repeatable)",
       "training data file (default: embedded synthetic data)",
       "reader plugin (default: libsvm, or synthetic without --data)"});
  model->add_option("--test", o.test, "test data: accuracy or RMSE in progress and summary");
  model->add_option("--init", o.init, "model file every worker starts from (warm start)");

  auto* algo = train->add_option_group("Algorithm");
  algo->add_option("--workers,-K", o.workers, "number of workers K")->capture_default_str();
  algo->add_option("--local-steps,-H", o.local_steps,
                   "local steps between averages (constant schedule; default 8)");
  algo->add_option("--schedule", o.schedule.name, "averaging schedule plugin")
      ->capture_default_str();
  algo->add_option("--schedule-param", flags->schedule_params, "schedule parameter key=value");
  algo->add_option("--batch,-b", o.batch, "mini-batch size b per worker and step")
      ->capture_default_str();
  auto* steps = algo->add_option("--steps,-T", o.steps, "steps per worker T");
  algo->add_option("--epochs", o.epochs,
                   "passes over the data in total, T = ceil(E n / (K b)) (default 10; with a "
                   "target, up to --max-epochs)")
      ->excludes(steps);
  add_enum_option(algo, "--lr", o.lr, core::step_rule_names(), "step size rule",
                  "step size rule: " + or_list(core::step_size_names()))
      ->default_str("auto");
  algo->add_option(
      "--lr-param", flags->lr_params,
      "step size parameter key=value (eta0, c, eta, gamma, every, warmup; see README)");
  algo->add_option("--avg-shift", o.avg_shift,
                   "shift a of the output weights (a+t)^2 (default: the rule's, else H)");
  add_enum_option(algo, "--partition", o.partition, core::partition_kind_names(), "partition",
                  "rows per worker: shared, shard, contiguous or label-skew")
      ->default_str("shared");
  algo->add_option("--partition-param", flags->partition_params,
                   "partition parameter key=value (label-skew: alpha, default 0.5)");
  add_enum_option(algo, "--sampling", o.sampling, core::sampling_names(), "sampling",
                  "iid (with replacement, as in the paper) or shuffle (shuffled passes)")
      ->default_str("shuffle");
  algo->add_flag("--async", o.async.enabled,
                 "asynchronous Local SGD, simulated: workers average on their own clocks");
  algo->add_option("--worker-speeds", flags->worker_speeds,
                   "with --async: steps per time unit per worker, e.g. 1,1,0.5,0.25, or 'random'");
  algo->add_option("--max-staleness", o.async.max_staleness,
                   "with --async: rounds a worker may lead the slowest (default unbounded)");
  algo->add_option("--seed", o.seed, "random seed")->check(seed_validator())->capture_default_str();
  add_threads_option(algo, o.threads);
  add_enum_option(algo, "--backend", o.backend, core::backend_names(), "backend",
                  "threads, or mpi: the workers spread over the ranks of mpirun/srun")
      ->default_str("threads");

  auto* output = train->add_option_group("Output");
  add_fstar_option(output, flags->targets, "known optimum f*, to report suboptimality");
  add_target_options(output, flags->targets,
                     "stop when f(x_hat) - f* <= EPS (f* from --fstar or solved)",
                     "stop when (f(x_hat) - f*)/|f*| <= EPS");
  output->add_option("--max-epochs", o.max_epochs,
                     "with a target and no --steps/--epochs: passes to try at most (default 100)");
  output->add_flag("--require-target", o.require_target,
                   "an unmet target fails the run (exit 1, no model) instead of a warning");
  output->add_option("--eval-every", o.eval_every,
                     "progress event every N steps (default: none; with a target, every epoch)");
  add_format_option(output, flags->output);
  output->add_option("--out", o.out, "write the model x_hat to this file (atomically)");
  output->add_option("--plot", o.plot,
                     "draw f(x_hat) - f* (or f) against epochs, log scale, to .svg or .png");
  output->add_flag("--fit-rate", o.fit_rate,
                   "fit f(x_hat) - f* = C T^s over the evaluations of the run's last three "
                   "octaves of T (8 per epoch unless --eval-every); the summary gives s as "
                   "rate_slope (-1 is Theorem 2.2's O(1/T))");
  auto* saving = train->add_option_group("Checkpoints");
  saving->add_option("--checkpoint", o.checkpoint,
                     "write the run's whole state to this file (atomically) every "
                     "--checkpoint-every steps and when SIGINT/SIGTERM stops the run");
  saving->add_option("--checkpoint-every", o.checkpoint_every,
                     "steps between checkpoints (default: one a minute)");
  saving->add_option("--resume", o.resume,
                     "continue from this checkpoint with the same options: the model and "
                     "summary are those of the uninterrupted run, bit for bit");
  output->add_flag("--quiet,-q", flags->quiet, "print nothing on success (json still prints)");
  add_progress_option(output, flags->progress, "a progress bar");
  output->add_flag("--verbose", flags->verbose,
                   "with --backend mpi: every rank prints (default: rank 0 only)");

  train
      ->add_flag("--print-config", flags->print_config,
                 "print these options as a config file (localsgd train --config FILE reads it) "
                 "and exit without running")
      ->configurable(false);
  train->callback([flags, train] { run_train(*flags, *train); });
}

}  // namespace localsgd::cli
