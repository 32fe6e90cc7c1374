// `localsgd train`: Local SGD on one objective, data set and schedule.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/report.hpp"
#include "localsgd/core/step_size.hpp"
#include "localsgd/core/train.hpp"

namespace localsgd::cli {
namespace {

struct TrainFlags {
  core::TrainRequest request;
  ObjectiveDataFlags source;
  TargetFlags targets;
  std::vector<std::string> schedule_params, lr_params, partition_params;
  std::optional<std::int64_t> local_steps;
  std::optional<std::int64_t> steps;
  std::optional<double> epochs, avg_shift;
  OutputFlags output;
  bool quiet = false;
};

void run_train(TrainFlags& flags) {
  core::TrainRequest& r = flags.request;
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  apply(flags.source, r);
  r.schedule_params = collect_params("--schedule-param", flags.schedule_params);
  r.step_size_params = collect_params("--lr-param", flags.lr_params);
  r.partition_params = collect_params("--partition-param", flags.partition_params);
  if (flags.local_steps) {
    if (r.schedule != "constant")
      throw UsageError("--local-steps sets the constant schedule; with --schedule " + r.schedule +
                       " use --schedule-param");
    r.schedule_params.set("H", std::to_string(*flags.local_steps));
  }
  r.steps = flags.steps;
  r.epochs = flags.epochs;
  r.avg_shift = flags.avg_shift;
  apply(flags.targets, r);

  const ThreadCap cap(r.threads);

  core::EventPrinter printer(std::cout, format);
  const bool print = !flags.quiet || format == core::OutputFormat::json;
  const core::TrainOutcome outcome = core::train(r, [&](const nlohmann::ordered_json& event) {
    if (print) printer.print(event);
  });
  if (print) printer.print(outcome.summary);
}

}  // namespace

void set_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  core::TrainRequest& r = flags->request;
  CLI::App* train = app.add_subcommand("train", "Run Local SGD");

  auto* model = train->add_option_group("Model and data");
  add_objective_data_options(
      model, flags->source,
      {"objective plugin: name or path to a .so", "objective parameter key=value (repeatable)",
       "training data file (default: embedded synthetic data)",
       "reader plugin (default: libsvm, or synthetic without --data)"});
  model->add_option("--test", r.test, "test data: accuracy or RMSE in progress and summary");
  model->add_option("--init", r.init, "model file every worker starts from (warm start)");

  auto* algo = train->add_option_group("Algorithm");
  algo->add_option("--workers,-K", r.workers, "number of workers K")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  auto* local = algo->add_option("--local-steps,-H", flags->local_steps,
                                 "local steps between averages (constant schedule; default 8)")
                    ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 62));
  algo->add_option("--schedule", r.schedule, "averaging schedule plugin")->capture_default_str();
  algo->add_option("--schedule-param", flags->schedule_params, "schedule parameter key=value");
  algo->add_option("--batch,-b", r.batch, "mini-batch size b per worker and step")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 30));
  auto* steps = algo->add_option("--steps,-T", flags->steps, "steps per worker T")
                    ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 62));
  algo->add_option("--epochs", flags->epochs,
                   "passes over the data in total, T = ceil(E n / (K b)) (default 10)")
      ->excludes(steps);
  algo->add_option("--lr", r.step_size, "step size rule: " + or_list(core::step_size_names()))
      ->capture_default_str();
  algo->add_option(
      "--lr-param", flags->lr_params,
      "step size parameter key=value (eta0, c, eta, gamma, every, warmup; see README)");
  algo->add_option("--avg-shift", flags->avg_shift,
                   "shift a of the output weights (a+t)^2 (default: the rule's, else H)");
  algo->add_option("--partition", r.partition,
                   "rows per worker: shared, shard, contiguous or label-skew")
      ->capture_default_str();
  algo->add_option("--partition-param", flags->partition_params,
                   "partition parameter key=value (label-skew: alpha, default 0.5)");
  algo->add_option("--sampling", r.sampling,
                   "iid (with replacement, as in the paper) or shuffle (shuffled passes)")
      ->capture_default_str();
  algo->add_flag("--async", r.async,
                 "asynchronous Local SGD, simulated: workers average on their own clocks");
  algo->add_option("--worker-speeds", r.worker_speeds,
                   "with --async: steps per time unit per worker, e.g. 1,1,0.5,0.25, or 'random'");
  algo->add_option("--max-staleness", r.max_staleness,
                   "with --async: rounds a worker may lead the slowest (default unbounded)");
  algo->add_option("--seed", r.seed, "random seed")->capture_default_str();
  add_threads_option(algo, r.threads);
  (void)local;

  auto* output = train->add_option_group("Output");
  add_fstar_option(output, flags->targets, "known optimum f*, to report suboptimality");
  add_target_options(output, flags->targets,
                     "stop when f(x_hat) - f* <= EPS (f* from --fstar or solved)",
                     "stop when (f(x_hat) - f*)/|f*| <= EPS");
  output
      ->add_option("--eval-every", r.eval_every,
                   "progress event every N steps (default: none; with a target, every epoch)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 62));
  add_format_option(output, flags->output);
  output->add_option("--out", r.out, "write the model x_hat to this file (atomically)");
  output->add_option("--plot", r.plot,
                     "draw f(x_hat) - f* (or f) against epochs, log scale, to .svg or .png");
  output->add_flag("--quiet,-q", flags->quiet, "print nothing on success (json still prints)");

  train->callback([flags] { run_train(*flags); });
}

}  // namespace localsgd::cli
