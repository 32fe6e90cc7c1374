#include "localsgd/core/run/train_options.hpp"

#include <cmath>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/plot.hpp"

namespace localsgd::core {

const char* to_string(StepRule rule) {
  switch (rule) {
    case StepRule::automatic: return "auto";
    case StepRule::invtime: return "invtime";
    case StepRule::paper: return "paper";
    case StepRule::constant: return "constant";
    case StepRule::sqrt: return "sqrt";
    case StepRule::step: return "step";
  }
  return "?";
}

const char* to_string(Backend backend) {
  return backend == Backend::mpi ? "mpi" : "threads";
}

std::vector<std::pair<std::string, Backend>> backend_names() {
  return {{"threads", Backend::threads}, {"mpi", Backend::mpi}};
}

const char* to_string(PartitionKind kind) {
  switch (kind) {
    case PartitionKind::shared: return "shared";
    case PartitionKind::shard: return "shard";
    case PartitionKind::contiguous: return "contiguous";
    case PartitionKind::label_skew: return "label-skew";
  }
  return "?";
}

std::vector<std::pair<std::string, StepRule>> step_rule_names() {
  std::vector<std::pair<std::string, StepRule>> names;
  for (StepRule r : {StepRule::automatic, StepRule::invtime, StepRule::paper, StepRule::constant,
                     StepRule::sqrt, StepRule::step})
    names.emplace_back(to_string(r), r);
  return names;
}

std::vector<std::pair<std::string, PartitionKind>> partition_kind_names() {
  std::vector<std::pair<std::string, PartitionKind>> names;
  for (PartitionKind k : {PartitionKind::shared, PartitionKind::shard, PartitionKind::contiguous,
                          PartitionKind::label_skew})
    names.emplace_back(to_string(k), k);
  return names;
}

std::vector<std::pair<std::string, Sampling>> sampling_names() {
  return {{to_string(Sampling::iid), Sampling::iid},
          {to_string(Sampling::shuffle), Sampling::shuffle}};
}

std::optional<std::string> TrainOptions::validate() const {
  if (objective.name.empty()) return "--plugin is required";
  // Bounds that keep K * b and every count derived from them far from overflow; the
  // memory the workers need is checked against the machine once the model size is known.
  if (workers < 1 || workers > kMaxWorkers)
    return "--workers must be between 1 and " + std::to_string(kMaxWorkers);
  if (batch < 1 || batch > kMaxBatch)
    return "--batch must be between 1 and " + std::to_string(kMaxBatch);
  if (local_steps) {
    if (*local_steps < 1) return "--local-steps must be at least 1";
    if (schedule.name != "constant")
      return "--local-steps sets the constant schedule; with --schedule " + schedule.name +
             " use --schedule-param";
  }
  if (local_steps && schedule.params.has("H")) return "give -H or --schedule-param H, not both";
  if (data == "-" && test == "-") return "--data and --test cannot both be standard input";
  if (steps && epochs) return "give --steps or --epochs, not both";
  if (steps && *steps < 1) return "--steps must be at least 1";
  if (epochs && (!(*epochs > 0) || !std::isfinite(*epochs))) return "--epochs must be > 0";
  // Beyond 1e100 the weights (a+t)^2 and their sums leave double range long before the
  // average changes (it is already the plain mean of the iterates).
  if (avg_shift && (!std::isfinite(*avg_shift) || *avg_shift < 0 || *avg_shift > 1e100))
    return "--avg-shift must be a number from 0 to 1e100";
  if (threads < 0) return "--threads must be >= 0";
  if (lr == StepRule::automatic && !lr_params.all().empty())
    return "--lr auto takes no --lr-param (it chooses the step size itself): drop --lr auto to "
           "give invtime's parameters, or name a rule, e.g. --lr constant --lr-param eta=0.1";
  if (target && target_rel) return "give --target or --target-rel, not both";
  for (const auto& t : {target, target_rel, fstar})
    if (t && !std::isfinite(*t)) return "--fstar, --target and --target-rel must be finite";
  if ((target && !(*target > 0)) || (target_rel && !(*target_rel > 0)))
    return "--target and --target-rel must be > 0";
  if (target_rel && fstar && *fstar == 0)
    return "--target-rel is relative to f*, which --fstar gives as 0: use --target";
  if (max_epochs) {
    if (!targeted()) return "--max-epochs is the budget of a target: give --target or --target-rel";
    if (steps || epochs) return "give --max-epochs or --steps/--epochs, not both";
    if (!(*max_epochs > 0) || !std::isfinite(*max_epochs)) return "--max-epochs must be > 0";
  }
  if (require_target && !targeted()) return "--require-target needs --target or --target-rel";
  if (eval_every < 0) return "--eval-every must be >= 0";
  if (!plot.empty() && plot_format(plot).empty())
    return "--plot " + plot + ": use a .svg or .png file";
  if (backend == Backend::mpi && async.enabled)
    return "--async runs in one process: drop --backend mpi (or --async)";
  if (!async.enabled) {
    if (!async.speeds.empty() || async.random_speeds || async.max_staleness)
      return "--worker-speeds and --max-staleness need --async";
  } else {
    if (!async.speeds.empty() && static_cast<std::int64_t>(async.speeds.size()) != workers)
      return "--worker-speeds needs one speed per worker (" + std::to_string(workers) + ")";
    for (double v : async.speeds)
      if (!(v > 0) || !std::isfinite(v)) return "--worker-speeds must be positive";
    // A worker receives the mean as soon as it delivers, so a faster one always leads by
    // at least one round when it does.
    if (async.max_staleness && *async.max_staleness < 1) return "--max-staleness must be >= 1";
  }
  if (checkpoint_every) {
    if (checkpoint.empty()) return "--checkpoint-every needs --checkpoint FILE";
    if (*checkpoint_every < 1) return "--checkpoint-every must be at least 1";
  }
  return std::nullopt;
}

namespace {

// T from --epochs or a default budget.
std::int64_t budget_steps(const TrainOptions& options, std::int64_t rows) {
  // The default budgets give small data sets more passes: a floor in sampled gradients.
  const auto floor_epochs = [&](double samples) {
    return samples / static_cast<double>(std::max<std::int64_t>(1, rows));
  };
  const double epochs = options.epochs       ? *options.epochs
                        : options.max_epochs ? *options.max_epochs
                        : options.targeted()
                            ? std::max(kDefaultMaxEpochs, floor_epochs(kDefaultMaxSamples))
                            : std::max(kDefaultEpochs, floor_epochs(kDefaultMinSamples));
  const double steps = std::ceil(epochs * static_cast<double>(rows) /
                                 static_cast<double>(options.workers * options.batch));
  if (!(steps < 0x1p62))
    throw UsageError("--epochs/--max-epochs " + format_number(epochs) + " gives " +
                     brief_number(steps) + " steps, more than a run can count (2^62)");
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(steps));
}

}  // namespace

std::int64_t resolve_steps(const TrainOptions& options, std::int64_t rows) {
  const std::int64_t steps = options.steps ? *options.steps : budget_steps(options, rows);
  // Counters of sampled gradients (K T b) are 64-bit: refuse what they cannot hold.
  const double samples = static_cast<double>(steps) * static_cast<double>(options.workers) *
                         static_cast<double>(options.batch);
  if (!(samples < 0x1p62))
    throw UsageError(std::string(options.steps ? "--steps " : "the budget's ") +
                     std::to_string(steps) + (options.steps ? "" : " steps") +
                     " with K = " + std::to_string(options.workers) +
                     " and b = " + std::to_string(options.batch) + " is " + brief_number(samples) +
                     " sampled gradients, more than a run can count (2^62)");
  return steps;
}

}  // namespace localsgd::core
