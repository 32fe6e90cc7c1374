#include "localsgd/core/run/train.hpp"
#include "localsgd/core/io/plot.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "divergence_guard.hpp"
#include "engine/mpi_communicator.hpp"
#include "localsgd/core/data/data_hash.hpp"
#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/engine/backend.hpp"
#include "localsgd/core/engine/partition.hpp"
#include "localsgd/core/engine/rng.hpp"
#include "localsgd/core/engine/step_size.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/checkpoint_file.hpp"
#include "localsgd/core/io/make_model.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/default_step.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "localsgd/core/solve/evaluate.hpp"
#include "localsgd/core/solve/solve.hpp"
#include "memory_budget.hpp"
#include "rows_to_read.hpp"
#include "run_identity.hpp"

namespace localsgd::core {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Replaces `parts` by their sum over the processes, with a failure count in the same
// exchange: when some process's part failed (its `error`), all stop together (agree()
// then throws on every process).
void sum_or_stop(Communicator& communicator, std::exception_ptr error, std::vector<double>& parts) {
  parts.push_back(error ? 1.0 : 0.0);
  communicator.sum_uncounted(parts);
  const bool failed = parts.back() > 0;
  parts.pop_back();
  if (failed) communicator.agree(error);
}

// Measures a model: f(x̂) and its gap to f* always; f(x̄), the gradient norm and the
// test score only for a full assessment (each costs a pass over its data).
class Assessor {
 public:
  Assessor(const Problem& problem, std::optional<double> fstar)
      : problem_(problem),
        fstar_(fstar),
        gradient_(static_cast<std::size_t>(problem.objective().dimension())) {}

  // From now on this process holds `weight` (its rows over all rows) of the data, and the
  // others the rest: f and its gradient are means over rows, so the whole data's are the
  // row-weighted sums of the processes' (the regulariser, the same in each, adds up to
  // itself: the weights sum to 1). Every process gets the same bits.
  void spread_over(Communicator& communicator, double weight) {
    communicator_ = &communicator;
    weight_ = weight;
  }

  Quality assess(const std::vector<double>& x_hat, const std::vector<double>* x_bar) {
    Quality q;
    const DataView data = problem_.data();
    std::exception_ptr error;
    try {
      call_plugin(problem_.objective_manifest(), "the evaluation of f", [&] {
        if (x_bar != nullptr)  // both values and the gradient, reading the rows once
          std::tie(q.objective, q.objective_last) =
              evaluate_pair_and_gradient(problem_.objective(), data, x_hat, *x_bar, gradient_);
        else
          q.objective = evaluate_objective(problem_.objective(), data, x_hat);
      });
    } catch (...) {
      if (communicator_ == nullptr) throw;
      error = std::current_exception();
    }
    if (communicator_ != nullptr) join(q, x_bar != nullptr, error);
    if (x_bar != nullptr)
      q.grad_norm =
          std::sqrt(std::inner_product(gradient_.begin(), gradient_.end(), gradient_.begin(), 0.0));
    if (fstar_) {
      q.suboptimality = q.objective - *fstar_;
      q.rel_suboptimality = *q.suboptimality / std::max(std::abs(*fstar_), 1e-300);
    }
    if (x_bar == nullptr) return q;
    if (problem_.test() != nullptr) {
      const Score s = score_predictions(*problem_.test_objective(), problem_.test()->view(), x_hat);
      q.test_accuracy = s.accuracy;
      q.test_rmse = s.rmse;
    }
    return q;
  }

 private:
  // The processes' weighted parts, summed.
  void join(Quality& q, bool full, std::exception_ptr error) {
    std::vector<double> parts{weight_ * q.objective};
    if (full) {
      parts.push_back(weight_ * q.objective_last);
      for (const double g : gradient_) parts.push_back(weight_ * g);
    }
    sum_or_stop(*communicator_, error, parts);
    q.objective = parts[0];
    if (!full) return;
    q.objective_last = parts[1];
    std::copy(parts.begin() + 2, parts.end(), gradient_.begin());
  }

  const Problem& problem_;
  const std::optional<double> fstar_;
  std::vector<double> gradient_;
  Communicator* communicator_ = nullptr;  // set when the rows are spread over processes
  double weight_ = 1;
};

// The engine's monitor: evaluates at the cadence's steps and consults the callbacks.
class CallbackMonitor final : public Monitor {
 public:
  CallbackMonitor(std::int64_t every, std::int64_t samples_per_step, std::int64_t rows,
                  Assessor& assessor, const DivergenceGuard& guard,
                  std::span<TrainCallback* const> callbacks, bool full, const Whitening* whitening,
                  Communicator* communicator)
      : every_(every),
        samples_per_step_(samples_per_step),
        rows_(rows),
        assessor_(assessor),
        guard_(guard),
        callbacks_(callbacks),
        full_(full),
        whitening_(whitening),
        communicator_(communicator),
        start_(Clock::now()) {}

  std::int64_t next_evaluation(std::int64_t step) const override {
    return (step / every_ + 1) * every_;
  }

  bool evaluate(const Snapshot& s) override {
    Progress p;
    p.step = s.step;
    p.rounds = s.rounds;
    p.grad_evals = s.step * samples_per_step_;
    p.epochs = static_cast<double>(p.grad_evals) / static_cast<double>(rows_);
    if (whitening_ != nullptr) {  // the engine's u, in the model's x
      x_hat_ = whitening_->to_model(s.x_hat);
      x_bar_ = whitening_->to_model(s.x_bar);
    }
    const std::vector<double>& x_hat = whitening_ != nullptr ? x_hat_ : s.x_hat;
    const std::vector<double>& x_bar = whitening_ != nullptr ? x_bar_ : s.x_bar;
    p.quality = assessor_.assess(x_hat, full_ ? &x_bar : nullptr);
    bool stop = false;
    std::exception_ptr error;
    try {
      guard_.check(s.step, p.quality, full_);
      p.seconds = seconds_since(start_);
      p.x_hat = x_hat;
      p.x_bar = x_bar;
      for (TrainCallback* c : callbacks_) {
        c->on_progress(p);
        stop = c->should_stop(p) || stop;  // every callback sees every evaluation
      }
    } catch (...) {
      error = std::current_exception();
    }
    // The ranks evaluate together: they agree on a failure (the guard's verdict, a
    // callback's), so that rank 0 alone reports it, and stop when any rank's callbacks
    // ask to (a target met on one rank alone would leave the others waiting).
    if (communicator_ != nullptr && communicator_->ranks() > 1)
      return communicator_->agree_and_vote(error, {stop ? 1 : 0, false}).interrupt > 0;
    if (error) std::rethrow_exception(error);
    return stop;
  }

 private:
  const std::int64_t every_, samples_per_step_, rows_;
  Assessor& assessor_;
  const DivergenceGuard& guard_;
  std::span<TrainCallback* const> callbacks_;
  const bool full_;  // f(x̄), the gradient norm and the test score too
  const Whitening* whitening_;
  Communicator* communicator_;  // null in one process
  std::vector<double> x_hat_, x_bar_;
  const Clock::time_point start_;
};

// The divergence guard's reference and its name: f(x_0), the start every worker shares.
// A warm start (--init) may begin near the optimum, where SGD's noise alone can multiply a
// small f; its reference is the larger of f(x_0) and f at the objective's own initial point.
// `initial_model` is the start in the model's x (config.initial_model is the engine's u
// when the default step whitens).
// `assessor` measures f on the whole data (its rows may be spread over processes: then
// this is collective).
std::pair<double, std::string> reference_objective(const Problem& problem, Assessor& assessor,
                                                   std::uint64_t seed,
                                                   const std::vector<double>& initial_model) {
  const Objective& objective = problem.objective();
  std::vector<double> start(static_cast<std::size_t>(objective.dimension()));
  objective.initial_point(seed, start);
  const double uninformed = assessor.assess(start, nullptr).objective;
  if (initial_model.empty()) return {uninformed, "f(x_0)"};
  const double warm = assessor.assess(initial_model, nullptr).objective;
  if (warm >= uninformed) return {warm, "f(x_0)"};
  return {uninformed, "f at the objective's default start (f(x_0) = " + brief_number(warm) + ")"};
}

// What an unmet target reports: the target, the budget spent, where the run ended and
// the options that would give it more room.
std::string unmet_target(const TrainSummary& s, const TrainOptions& o) {
  const bool relative = !o.target.has_value();
  const std::optional<double>& gap =
      relative ? s.quality.rel_suboptimality : s.quality.suboptimality;
  const char* budget = o.steps ? "--steps" : o.epochs ? "--epochs" : "--max-epochs";
  return std::string("target ") + (relative ? "relative suboptimality " : "suboptimality ") +
         format_number(relative ? *o.target_rel : *o.target) + " not reached in " +
         brief_number(s.epochs) + " passes (" + std::to_string(s.steps) + " steps; at the end " +
         (gap ? brief_number(*gap) : std::string("unknown")) + "); give it more with " + budget +
         " or tune the step size (--lr, --lr-param)";
}

// Seeded speeds uniform in [0.25, 1], or the given ones, or all 1.
std::vector<double> worker_speeds(const AsyncOptions& async, std::int64_t workers,
                                  std::uint64_t seed) {
  if (async.random_speeds) {
    std::vector<double> speeds;
    RandomStream stream(seed, 0x7370656564732121ull, 0);
    for (std::int64_t k = 0; k < workers; ++k) speeds.push_back(0.25 + 0.75 * stream.uniform());
    return speeds;
  }
  if (!async.speeds.empty()) return async.speeds;
  return std::vector<double>(static_cast<std::size_t>(workers), 1.0);
}

std::vector<double> initial_model(const std::string& file, const Problem& problem) {
  if (file.empty()) return {};
  Model model = load_model(file);
  const Manifest& manifest = problem.objective_manifest();
  // A model that does not fit this run is a mismatched file (exit 3, as for eval).
  if (model.objective != manifest.name)
    throw DataError(
        file, 0, 0,
        "--init: a '" + model.objective + "' model; this run trains '" + manifest.name + "'");
  if (static_cast<std::int64_t>(model.coefficients.size()) != problem.objective().dimension())
    throw DataError(file, 0, 0,
                    "--init: the model has " + std::to_string(model.coefficients.size()) +
                        " coefficients; the objective on this data has " +
                        std::to_string(problem.objective().dimension()));
  // Parameters that are words or lists (classes, bias, an activation) say what each
  // coefficient means: the same count in another class order starts every class from
  // another's weights. Numbers (lambda, a loss's delta) may change between runs.
  const auto is_number = [](const std::string& text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    return !text.empty() && error == std::errc() && stop == end;
  };
  const ParamMap resolved = problem.objective().resolved_params();
  for (const auto& [key, here] : resolved.all()) {
    const auto saved = model.params.find(key);
    if (saved == model.params.end() || saved->second == here ||
        (is_number(here) && is_number(saved->second)))
      continue;
    throw DataError(file, 0, 0,
                    "--init: the model's " + key + " is " + saved->second + " and this run's is " +
                        here + " (give --param " + key + "=" + saved->second +
                        ", or start without --init)");
  }
  return std::move(model.coefficients);
}

// Runs `step`; with several processes, all then agree on whether any failed (and all
// throw if one did: communicator.hpp).
template <class Step>
void agree_on(Communicator* communicator, Step&& step) {
  if (communicator == nullptr) return step();
  std::exception_ptr error;
  try {
    step();
  } catch (...) {
    error = std::current_exception();
  }
  communicator->agree(error);
}

// The parameters given, and the documented default of every other one the manifest
// declares (a default may be a description, such as "T/2").
std::map<std::string, std::string> effective_params(const Manifest& manifest,
                                                    const ParamMap& given) {
  std::map<std::string, std::string> all = given.all();
  for (std::size_t i = 0; i < manifest.param_count; ++i)
    all.emplace(manifest.params[i].name, manifest.params[i].default_value);
  return all;
}

// The rows this process's workers sample from, ascending, and the partition renumbered
// into them (the other processes' workers get no rows: they do not run here).
std::vector<std::int64_t> take_local_rows(std::vector<std::vector<std::int64_t>>& partition,
                                          WorkerRange local) {
  std::vector<std::int64_t> rows;
  for (std::int64_t k = local.begin; k < local.end; ++k) {
    const auto& part = partition[static_cast<std::size_t>(k)];
    rows.insert(rows.end(), part.begin(), part.end());
  }
  std::sort(rows.begin(), rows.end());  // the parts are disjoint
  for (std::size_t k = 0; k < partition.size(); ++k) {
    auto& part = partition[k];
    if (static_cast<std::int64_t>(k) < local.begin || static_cast<std::int64_t>(k) >= local.end) {
      part = {};
      continue;
    }
    for (std::int64_t& i : part) i = std::lower_bound(rows.begin(), rows.end(), i) - rows.begin();
  }
  return rows;
}

// Has `problem` keep only `rows`, the share `weight` of all rows, when its objective
// rebuilt on them is the same function: at a point where every part of f counts (the L2
// term too), f on the whole data must equal the ranks' row-weighted sum (to 1e-9). An
// objective that takes more from its data than its resolved parameters say (a plugin
// breaking that contract) fails the check, and every rank reads the data again and keeps
// every row. Where the rows were read selectively, f on the rows every rank holds
// (rows_to_read.hpp) must be the same before and after, on every rank. The rows are kept
// first and checked after, so that no rank ever holds its rows twice (keep_rows).
// Collective.
bool spread_rows(Problem& problem, std::span<const std::int64_t> rows, double weight,
                 Communicator& communicator, const Manifest& manifest) {
  const auto dimension = static_cast<std::size_t>(problem.objective().dimension());
  const std::vector<double> point = test_point(dimension);
  // Rows read selectively (rows_to_read.hpp) leave no whole data to compare with: then the
  // objective kept must be the one read on the rows every rank holds.
  const bool selected = problem.rows_selected();
  Dataset common;
  double whole = 0;
  agree_on(&communicator, [&] {
    if (selected) common = common_rows(problem.data());
    whole = call_plugin(manifest, "the evaluation of f", [&] {
      return evaluate_objective(problem.objective(), selected ? common.view() : problem.data(),
                                point);
    });
  });
  std::exception_ptr error;
  std::vector<double> parts{0.0, 0.0};
  try {
    problem.keep_rows(rows);
    if (static_cast<std::size_t>(problem.objective().dimension()) != dimension)
      parts[1] = 1;      // another model: refused below on every rank
    else if (!selected)  // (selected: compared on the common rows below)
      parts[0] = weight * call_plugin(manifest, "the evaluation of f", [&] {
                   return evaluate_objective(problem.objective(), problem.data(), point);
                 });
    if (selected && parts[1] == 0 &&
        !same_value(whole, call_plugin(manifest, "the evaluation of f", [&] {
                      return evaluate_objective(problem.objective(), common.view(), point);
                    })))
      parts[1] = 1;
  } catch (...) {
    error = std::current_exception();
  }
  sum_or_stop(communicator, error, parts);
  const bool same = parts[1] == 0 && (selected || std::abs(parts[0] - whole) <=
                                                      1e-9 * std::max(1.0, std::abs(whole)));
  if (!same) agree_on(&communicator, [&] { problem.reload(); });
  return same;
}

// On rank 0: the first other rank whose `mine` differs from rank 0's, and its text.
// Collective.
std::optional<std::pair<int, std::string>> first_other_rank(const std::string& mine,
                                                            Communicator& communicator) {
  const auto all = communicator.gather(std::as_bytes(std::span(mine)));
  for (std::size_t rank = 1; rank < all.size(); ++rank) {
    std::string theirs(reinterpret_cast<const char*>(all[rank].data()), all[rank].size());
    if (theirs != mine) return std::pair(static_cast<int>(rank), std::move(theirs));
  }
  return std::nullopt;
}

// Every rank must set up the same run. Ranks that read different data (a file that
// differs from node to node), load other plugins or were given other options would
// disagree on T, the partition, when to stop or when to save a checkpoint, and wait for
// each other forever. Rank 0 compares each rank's description of its run (the checkpoint
// identity, and what decides when it stops, saves and what it reports) with its own; the
// first difference stops every rank with exit 2. Collective.
void check_same_run(nlohmann::ordered_json run, const Problem& problem, const TrainOptions& options,
                    Communicator& communicator) {
  const auto optional = [](const auto& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
  };
  run["fstar"] = optional(options.fstar);
  run["target"] = optional(options.target);
  run["target_rel"] = optional(options.target_rel);
  run["require_target"] = options.require_target;
  run["fit_rate"] = options.fit_rate;
  run["test"] = problem.test() != nullptr ? data_identity(problem.test()->view())
                                          : nlohmann::ordered_json("none");
  // Rank 0 writes the checkpoint (to its --checkpoint path), but every rank ends its
  // phases where one is due. Which checkpoint each resumes from is compared once read
  // (check_same_checkpoint): node-local copies may have different paths.
  run["saves_checkpoints"] = !options.checkpoint.empty();
  run["checkpoint_every"] = optional(options.checkpoint_every);
  run["resumes"] = !options.resume.empty();
  const std::string mine = run.dump();
  std::exception_ptr error;
  if (const auto other = first_other_rank(mine, communicator)) {
    const auto difference = identity_difference(nlohmann::ordered_json::parse(other->second), run,
                                                "rank " + std::to_string(other->first), "rank 0");
    error = std::make_exception_ptr(UsageError(
        "the ranks would run different things: " + difference.value_or("their runs differ") +
        " (every rank needs the same data, plugins and options: a file at the same path on "
        "every node)"));
  }
  communicator.agree(error);
}

// Ranks that resume must read the same checkpoint: a path that names another file on
// another node would start them at different steps. Collective.
void check_same_checkpoint(const Checkpoint& checkpoint, const std::string& file,
                           Communicator& communicator) {
  // Each rank's own path: node-local copies may have different ones.
  const std::string mine = file + " is at step " + std::to_string(checkpoint.state.step) +
                           " (checksum " + hex(checkpoint.checksum) + ")";
  std::exception_ptr error;
  if (const auto other = first_other_rank(mine, communicator))
    error = std::make_exception_ptr(UsageError(
        "the ranks would resume from different checkpoints: " + other->second + " on rank " +
        std::to_string(other->first) + " and " + mine +
        " on rank 0 (every rank needs the same checkpoint: a shared file system, or a copy on "
        "every node)"));
  communicator.agree(error);
}

// The training data's dataset_hash. A process that read only some rows' features
// (rows_to_read.hpp) adds its workers' row hashes to the other processes': every row has
// one owner, so the sum is the whole data's. Collective then.
std::uint64_t training_data_hash(const Problem& problem, const EngineConfig& config,
                                 Communicator* communicator) {
  const DataView data = problem.data();
  if (!problem.rows_selected()) return dataset_hash(data);
  const WorkerRange local = communicator->local_workers(config.workers);
  std::uint64_t mine = 0;
  for (std::int64_t k = local.begin; k < local.end; ++k)
    mine += row_hash_sum(data, config.partition[static_cast<std::size_t>(k)]);
  // An exact sum modulo 2^64 through doubles: four 16-bit limbs, each sum far below 2^53.
  std::vector<double> limbs(4);
  for (std::size_t k = 0; k < 4; ++k) limbs[k] = static_cast<double>((mine >> (16 * k)) & 0xffff);
  communicator->sum_uncounted(limbs);
  std::uint64_t sum = 0;
  for (std::size_t k = 0; k < 4; ++k) sum += static_cast<std::uint64_t>(limbs[k]) << (16 * k);
  return dataset_hash(data, sum);
}

// With a partition over several processes, each keeps only its workers' rows from now on
// (when spread_rows() finds the objective the same on them) and `assessor` adds up the
// processes' parts of f. Returns the rows each process holds and read, in rank order.
// Collective.
struct RankRows {
  std::vector<std::int64_t> held, read;
};
RankRows keep_own_rows(const Problem& problem, Problem* spreadable, Communicator& communicator,
                       EngineConfig& config, Assessor& assessor, bool lead) {
  const std::int64_t rows = problem.whole_rows();
  std::int64_t kept = rows;
  if (spreadable != nullptr && communicator.ranks() > 1 && !config.partition.empty()) {
    auto partition = config.partition;
    const std::vector<std::int64_t> local =
        take_local_rows(partition, communicator.local_workers(config.workers));
    const double weight = static_cast<double>(local.size()) / static_cast<double>(rows);
    const Manifest& manifest = problem.objective_manifest();
    if (spread_rows(*spreadable, local, weight, communicator, manifest)) {
      config.partition = std::move(partition);
      config.row_share = weight;
      kept = static_cast<std::int64_t>(local.size());
      assessor.spread_over(communicator, weight);
    } else if (lead) {
      std::cerr << "localsgd: warning: objective plugin '" << manifest.name
                << "' is another function on the ranks' rows than on the whole data (it "
                   "depends on the data beyond its resolved parameters), so every rank "
                   "keeps every row\n";
    }
  }
  // Per rank: the rows held, then the rows whose features it read.
  const auto ranks = static_cast<std::size_t>(communicator.ranks());
  std::vector<double> counts(2 * ranks, 0.0);
  counts[static_cast<std::size_t>(communicator.rank())] = static_cast<double>(kept);
  counts[ranks + static_cast<std::size_t>(communicator.rank())] =
      static_cast<double>(problem.rows_read());
  communicator.sum_uncounted(counts);
  RankRows result;
  for (std::size_t r = 0; r < ranks; ++r) {
    result.held.push_back(static_cast<std::int64_t>(counts[r]));
    result.read.push_back(static_cast<std::int64_t>(counts[ranks + r]));
  }
  return result;
}

// train() on `problem`; `spreadable` is the same problem when the caller lets it drop the
// rows of other processes' workers (it owns the problem and has no other run for it).
TrainOutcome train_on(const Problem& problem, Problem* spreadable, const TrainOptions& options,
                      std::span<TrainCallback* const> given_callbacks) {
  const auto setup_start = Clock::now();
  const Manifest& objective_manifest = problem.objective_manifest();
  const Manifest& schedule_manifest = problem.schedule_manifest();
  const DataView data = problem.data();
  const Objective& objective = problem.objective();
  // With the mpi backend every step of the set-up that may fail is agreed on (agree_on):
  // a rank that fails alone (a file missing on one node, other options on one rank of an
  // mpirun of several programs) stops them all, with one message from rank 0, instead of
  // leaving the others waiting in the next exchange.
  Communicator* const communicator =
      options.backend == Backend::mpi ? &MpiCommunicator::world() : nullptr;
  const bool lead = communicator == nullptr || communicator->rank() == 0;
  if (lead && problem.test() != nullptr && problem.test_file_columns() > problem.data().cols)
    std::cerr << "localsgd: warning: --test " << options.test << " has "
              << problem.test_file_columns() << " columns and the training data "
              << problem.data().cols << ": test scores ignore the features beyond column "
              << problem.data().cols << '\n';

  ParamMap schedule_params;
  std::unique_ptr<Schedule> schedule;
  std::int64_t period = 0;
  std::int64_t multiplier = 1;  // a mini-batch baseline trades steps for batch size
  agree_on(communicator, [&] {
    if (const auto error = options.validate()) throw UsageError(*error);
    if (communicator != nullptr && options.workers < communicator->ranks())
      throw UsageError(
          "--backend mpi needs a worker on every rank: K = " + std::to_string(options.workers) +
          " on " + std::to_string(communicator->ranks()) + " ranks (use -K " +
          std::to_string(communicator->ranks()) + " or more, or fewer ranks)");
    ParamMap given_schedule_params;
    if (options.local_steps) given_schedule_params.set("H", std::to_string(*options.local_steps));
    schedule_params = problem.schedule_params(given_schedule_params);
    schedule = make_schedule(schedule_manifest, schedule_params);
    period = call_plugin(schedule_manifest, "nominal_period",
                         [&] { return schedule->nominal_period(); });
    multiplier = call_plugin(schedule_manifest, "batch_multiplier",
                             [&] { return schedule->batch_multiplier(); });
    if (multiplier < 1 || multiplier > kMaxBatch)
      throw PluginError("schedule plugin '" + std::string(schedule_manifest.name) +
                        "' returned a batch multiplier of " + std::to_string(multiplier) +
                        " (it must be between 1 and " + std::to_string(kMaxBatch) + ")");
    if (options.batch * multiplier > kMaxBatch)
      throw UsageError("mini-batches of b = " + std::to_string(options.batch) +
                       " times schedule '" + std::string(schedule_manifest.name) +
                       "''s batch multiplier " + std::to_string(multiplier) + " exceed " +
                       std::to_string(kMaxBatch) + " samples");
    // The files the run writes, before it runs: a checkpoint due after a minute, a model
    // or a plot at the end, must not fail for a directory that was never there. Rank 0
    // writes them.
    if (!lead) return;
    for (const std::string& file : {options.out, options.checkpoint})
      if (!file.empty()) check_output_path(file);
    if (!options.plot.empty()) check_plot_file(options.plot, "--plot");
  });
  // This process's workers against this process's share of its node's memory.
  agree_on(communicator, [&] {
    const std::int64_t local = communicator != nullptr
                                   ? communicator->local_workers(options.workers).size()
                                   : options.workers;
    const int sharing = communicator != nullptr ? MpiCommunicator::world().node_ranks() : 1;
    check_memory(local, objective.dimension(), options.batch * multiplier,
                 options.sampling != Sampling::shuffle        ? 0
                 : options.partition == PartitionKind::shared ? data.rows()
                                                              : data.rows() / options.workers + 1,
                 sharing);
  });
  std::vector<double> init;
  std::int64_t steps = 0;
  agree_on(communicator, [&] {
    init = initial_model(options.init, problem);
    // Without --init a margin model's intercept starts at its best value for the starting
    // weights, found on the whole data before any rows are spread (every rank alike): with
    // a loss of bounded slope (Huber) SGD moves an intercept at most eta a step, and
    // targets offset by 1e5 ended far from f* (relative suboptimality 29). A start needs
    // no more than kInterceptRows rows spread evenly (the fit holds 4 doubles a row).
    if (init.empty() && objective.as_margin() != nullptr &&
        objective.as_margin()->has_intercept()) {
      init.resize(static_cast<std::size_t>(objective.dimension()));
      objective.initial_point(options.seed, init);
      constexpr std::int64_t kInterceptRows = 100000;
      Dataset sample;
      if (data.rows() > kInterceptRows) {
        std::vector<std::int64_t> rows(kInterceptRows);
        for (std::int64_t k = 0; k < kInterceptRows; ++k)
          rows[static_cast<std::size_t>(k)] = k * data.rows() / kInterceptRows;
        sample = copy_rows(data, rows);
      }
      const DataView fitted_on = data.rows() > kInterceptRows ? sample.view() : data;
      call_plugin(objective_manifest, "the intercept's start",
                  [&] { fit_intercept(*objective.as_margin(), fitted_on, init); });
    }
    steps = resolve_steps(options, data.rows());  // refuses a budget first
    // A mini-batch baseline makes ceil(T/H) steps of H·b samples: past T it would take
    // more samples than the Local SGD run it stands for.
    if (multiplier > steps)
      throw UsageError("schedule '" + std::string(schedule_manifest.name) + "' makes steps of " +
                       std::to_string(multiplier) + " local steps' samples, more than the run's " +
                       std::to_string(steps) + " steps (give a smaller H or more --steps)");
  });
  // x̂ weighs the iterates before the last step: after one step that is x_0 alone.
  if (lead && (steps + multiplier - 1) / multiplier == 1)
    std::cerr << "localsgd: warning: a run of one step reports x_hat = x_0, the starting "
                 "point (x_hat averages the iterates before step T)\n";
  // The default rule probes the problem and may whiten it: the engine then runs on
  // u with x = P u, and everything it reports is mapped back to x.
  DefaultStep automatic;
  std::unique_ptr<StepSize> step_size;
  // Every rank probes (or estimates the curvature) alike; one that fails stops them all.
  agree_on(communicator, [&] {
    if (options.step_rule() == StepRule::automatic) {
      automatic = call_plugin(objective_manifest, "loss_and_gradient", [&] {
        std::vector<double> start = init;
        if (start.empty()) {
          start.resize(static_cast<std::size_t>(objective.dimension()));
          objective.initial_point(options.seed, start);
        }
        const double run_samples =
            static_cast<double>(steps) * static_cast<double>(options.workers * options.batch);
        return choose_default_step(
            objective, data, problem.whole_nnz(), options.batch * multiplier, options.seed, start,
            {(steps + multiplier - 1) / multiplier,  // the engine's T (config.steps below)
             static_cast<std::int64_t>(std::min(run_samples, 0x1p62)),
             !options.steps && !options.epochs && !options.max_epochs});
      });
      step_size = std::move(automatic.step_size);
    } else {
      try {
        step_size = call_plugin(objective_manifest, "curvature", [&] {
          return make_step_size(to_string(options.step_rule()), options.lr_params,
                                {objective, options.batch * multiplier, data.rows(), period});
        });
      } catch (const UsageError& e) {
        if (options.lr) throw;
        throw UsageError(std::string(e.what()) +
                         " (--lr-param without --lr sets invtime's parameters; name the rule "
                         "with --lr)");
      }
    }
  });
  const Whitening* whitening = automatic.whitening.get();

  std::optional<double> fstar = options.fstar;
  // The other ranks solve for f* alike, without a word and without storing it (only rank
  // 0 stores: fstar_cache.hpp).
  std::ostream silent(nullptr);
  std::ostream& fstar_log = lead ? std::cerr : silent;
  agree_on(communicator, [&] {
    // The solve calls the objective: its failures are the plugin's (exit 4).
    call_plugin(objective_manifest, "the exact solve for f*", [&] {
      if (options.targeted() && !fstar) fstar = problem.fstar("--target", fstar_log, lead);
      if (options.fit_rate && !fstar) fstar = problem.fstar("--fit-rate", fstar_log, lead);
    });
  });

  EngineConfig config;
  config.workers = options.workers;
  config.batch = options.batch * multiplier;
  config.steps = automatic.steps > 0 ? automatic.steps : (steps + multiplier - 1) / multiplier;
  config.seed = options.seed;
  config.schedule_name = schedule_manifest.name;
  config.threads = options.threads;
  // Ranks on one node share its cores: each takes its share unless told (MPI waits by
  // spinning, so more threads than cores stall exchanges: with 2 threads a rank, one of three
  // 20-pass w8a runs on 2 ranks of this 2-core machine took 7 s instead of 0.12 s).
  if (communicator != nullptr && options.threads == 0)
    config.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                                     MpiCommunicator::world().node_ranks());
  config.avg_shift =
      options.avg_shift.value_or(step_size->shift().value_or(static_cast<double>(period)));
  config.initial_model =
      whitening != nullptr && !init.empty() ? whitening->to_whitened(init) : init;
  config.sampling = options.sampling;
  config.communicator = communicator;
  Partition partition;
  // The callbacks: the caller's, then the target stop and the plot when asked for.
  std::vector<TrainCallback*> callbacks(given_callbacks.begin(), given_callbacks.end());
  std::optional<TargetStop> target_stop;
  std::optional<PlotCurve> plot;  // rank 0 draws it (its file was checked above)
  std::optional<RateFitter> rate;
  agree_on(communicator, [&] {
    partition = make_partition(to_string(options.partition), options.partition_params, data,
                               config.workers, config.seed);
    config.partition = std::move(partition.rows);
    if (options.async.enabled) {
      config.async.enabled = true;
      config.async.speeds = worker_speeds(options.async, config.workers, config.seed);
      if (options.async.max_staleness) config.async.max_staleness = *options.async.max_staleness;
    }
    if (options.targeted())
      callbacks.push_back(&target_stop.emplace(
          options.target ? *options.target : *options.target_rel, !options.target.has_value()));
    if (!options.plot.empty() && lead)
      callbacks.push_back(&plot.emplace(options.plot, objective_manifest.name));
    if (options.fit_rate) callbacks.push_back(&rate.emplace());
  });

  // Evaluate every --eval-every steps; else 8 times per epoch for a rate fit (its tail
  // needs points), with a target once per epoch, with a plot 8 times per epoch, and with
  // other callbacks never unless asked.
  const std::int64_t samples_per_step = config.workers * config.batch;
  const std::int64_t steps_per_epoch =
      std::max<std::int64_t>(1, (data.rows() + samples_per_step - 1) / samples_per_step);
  std::int64_t every = options.eval_every;
  if (every == 0 && rate) every = std::max<std::int64_t>(1, steps_per_epoch / 8);  // a tail
  if (every == 0 && options.targeted()) every = steps_per_epoch;
  if (every == 0 && !options.plot.empty()) every = std::max<std::int64_t>(1, steps_per_epoch / 8);
  bool monitored = every > 0 && !callbacks.empty();
  bool full = std::any_of(callbacks.begin(), callbacks.end(),
                          [](const TrainCallback* c) { return c->needs_full_assessment(); });
  if (communicator != nullptr) {
    // The ranks evaluate together (with their rows spread, an evaluation is an all-reduce),
    // so all take the same cadence and kind of assessment, though only rank 0 draws the
    // progress bar and the plot.
    std::vector<double> votes{monitored ? 1.0 : 0.0, full ? 1.0 : 0.0};
    communicator->sum_uncounted(votes);
    monitored = votes[0] > 0;
    full = votes[1] > 0;
  }
  Assessor assessor(problem, fstar);

  // Checkpoints: what this run is, and the state of the callbacks that gather results.
  std::optional<Checkpoint> resumed;
  nlohmann::ordered_json identity;
  auto callbacks_state = [&] {
    return nlohmann::ordered_json{
        {"target", target_stop ? target_stop->save_state() : nlohmann::ordered_json()},
        {"plot", plot ? plot->save_state() : nlohmann::ordered_json()},
        {"rate", rate ? rate->save_state() : nlohmann::ordered_json()}};
  };
  const bool several = communicator != nullptr && communicator->ranks() > 1;
  if (!options.checkpoint.empty() || !options.resume.empty() || several) {
    const std::uint64_t data_hash = training_data_hash(problem, config, communicator);
    agree_on(communicator, [&] {
      identity = run_identity(
          problem, options,
          {config, schedule_params, step_size->describe(), automatic.preconditioner(),
           partition.description, monitored ? std::max<std::int64_t>(1, every) : 0, data_hash});
    });
  }
  if (several) check_same_run(identity, problem, options, *communicator);
  if (!options.resume.empty()) {
    // Every process reads the checkpoint (all workers' state) and takes its own workers.
    agree_on(communicator, [&] {
      resumed = load_checkpoint(options.resume);
      if (const auto difference = identity_difference(resumed->identity, identity))
        throw DataError(options.resume, 0, 0, "this checkpoint is of another run: " + *difference);
      if (resumed->state.step >= config.steps)
        throw DataError(options.resume, 0, 0, "the checkpoint is at the end of its run");
    });
    if (several) check_same_checkpoint(*resumed, options.resume, *communicator);
    agree_on(communicator, [&] {
      if (target_stop && resumed->callbacks.contains("target"))
        target_stop->restore_state(resumed->callbacks["target"]);
      if (plot && resumed->callbacks.contains("plot") && resumed->callbacks["plot"].is_object())
        plot->restore_state(resumed->callbacks["plot"]);
      if (rate && resumed->callbacks.contains("rate") && resumed->callbacks["rate"].is_object())
        rate->restore_state(resumed->callbacks["rate"]);
    });
    config.checkpoints.resume = &resumed->state;
    if (lead)
      std::cerr << "localsgd: resuming from " << options.resume << " at step "
                << resumed->state.step << " of " << config.steps << '\n';
  }
  std::optional<std::int64_t> checkpoint_step;  // of the last one written (rank 0 writes)
  if (!options.checkpoint.empty()) {
    // By default a checkpoint a minute: a fast run's epochs would spend more time writing
    // than computing, a slow run's would lose hours.
    if (options.checkpoint_every)
      config.checkpoints.every = *options.checkpoint_every;
    else
      config.checkpoints.every_seconds = kDefaultCheckpointSeconds;
    config.checkpoints.save = [&](const EngineState& state) {
      save_checkpoint(options.checkpoint, {identity, callbacks_state(), state});
      checkpoint_step = state.step;
    };
  }
  // Under MPI a signal to any rank stops all at the same step (the runner votes on it).
  config.checkpoints.interrupt = GracefulInterrupts::flag();

  // Everything above read the data as a threads run does (the default rule's probes, f*,
  // the partition), or the same rows of it (rows_to_read.hpp).
  RankRows rank_rows;
  if (communicator != nullptr) {
    rank_rows = keep_own_rows(problem, spreadable, *communicator, config, assessor, lead);
    if (whitening != nullptr)  // on the objective kept
      automatic.whitened = whitened_objective(problem.objective(), *whitening);
  }
  // f(x_0), with the rows where they are now (summed over the ranks when spread).
  std::optional<const DivergenceGuard> guard;
  agree_on(communicator, [&] {
    auto [reference, reference_name] = reference_objective(problem, assessor, config.seed, init);
    guard.emplace(reference, std::move(reference_name), options, *step_size, whitening != nullptr);
  });
  CallbackMonitor monitor(std::max<std::int64_t>(1, every), samples_per_step, data.rows(), assessor,
                          *guard, callbacks, full, whitening, communicator);
  const DataView run_data = problem.data();
  const Objective& run_objective = automatic.whitened ? *automatic.whitened : problem.objective();
  const double setup_seconds = seconds_since(setup_start);

  const auto steps_done =
      std::make_shared<std::atomic<std::int64_t>>(resumed ? resumed->state.step : 0);
  config.steps_done = steps_done.get();
  agree_on(communicator, [&] {
    for (TrainCallback* c : callbacks) c->on_start(config.steps, samples_per_step, steps_done);
  });

  TrainOutcome outcome;
  // The summary's exchange time is the run's: set-up agreements (and a resumed run's wait
  // for the slowest reader of its checkpoint) are not part of it.
  const double exchange_before = communicator != nullptr ? communicator->exchange_seconds() : 0;
  const std::int64_t values_before = communicator != nullptr ? communicator->values_exchanged() : 0;
  try {
    outcome.result = run_local_sgd(run_objective, run_data, *schedule, *step_size, config,
                                   monitored ? &monitor : nullptr);
  } catch (const Diverged& e) {
    guard->rethrow(e);
  }
  const double run_exchange_seconds =
      communicator != nullptr ? communicator->exchange_seconds() - exchange_before : 0;
  const std::int64_t run_values_exchanged =
      communicator != nullptr ? communicator->values_exchanged() - values_before : 0;
  if (whitening != nullptr) {
    outcome.result.x_hat = whitening->to_model(outcome.result.x_hat);
    outcome.result.x_last = whitening->to_model(outcome.result.x_last);
  }
  const EngineResult& r = outcome.result;

  TrainSummary& s = outcome.summary;
  s.plugin = objective_manifest.name;
  s.data = problem.dataset().source;
  s.rows = problem.whole_rows();
  s.cols = run_data.cols;
  s.nnz = problem.whole_nnz();
  s.dimension = static_cast<std::int64_t>(r.x_hat.size());
  s.schedule = schedule_manifest.name;
  s.objective_params = effective_params(
      objective_manifest,
      ParamMap(recorded_params(problem.spec().objective.params, problem.objective())));
  s.schedule_params = effective_params(schedule_manifest, schedule_params);
  const Manifest& reader_manifest = load_plugin(problem.reader_name(), PluginKind::reader);
  s.reader = reader_manifest.name;  // the name it shows, also when given by path
  s.reader_params = effective_params(reader_manifest, problem.spec().reader.params);
  s.lr = step_size->describe();
  s.preconditioner = automatic.preconditioner();
  s.workers = config.workers;
  s.local_steps = period;
  s.partition = partition.description;
  s.sampling = to_string(config.sampling);
  if (config.async.enabled)
    s.async = TrainSummary::Async{config.async.speeds, r.max_staleness, r.mean_staleness};
  s.batch = config.batch;
  s.steps = r.steps;
  s.epochs = static_cast<double>(r.grad_evals) / static_cast<double>(s.rows);
  s.rounds = r.rounds;
  s.grad_evals = r.grad_evals;
  s.seed = config.seed;
  s.avg_shift = config.avg_shift;
  s.fstar = fstar;
  agree_on(communicator, [&] {
    s.quality = assessor.assess(r.x_hat, &r.x_last);
    guard->check_end(r.steps, s.quality);
  });
  // A default run (no step size, no budget, no warm start) that ends where it started has
  // failed the user quietly: say so, with the likeliest cause. (Pure-noise labels also
  // end there; the message says that too.)
  if (lead && options.step_rule() == StepRule::automatic && !options.steps && !options.epochs &&
      options.init.empty() && guard->reference() > 0 &&
      s.quality.objective > 0.95 * guard->reference()) {
    double largest = 0;
    for (const double v : run_data.value) largest = std::max(largest, std::abs(v));
    std::cerr << "localsgd: warning: the run ended at f(x_hat) = "
              << brief_number(s.quality.objective)
              << ", within 5 % of f(x_0) = " << brief_number(guard->reference())
              << ": it learned almost nothing. Unless the labels are noise, the default step "
                 "size found no progress; features of large or very different scales (largest "
                 "|value| here: "
              << brief_number(largest) << ") are the usual cause: scale them, or give --lr\n";
  }
  // A given f* above a value the run reached is not the minimum: every suboptimality and
  // target measured against it is wrong. (Solved ones are accurate to far below 1e-6.)
  const double below_fstar = options.fstar ? *options.fstar - s.quality.objective : 0.0;
  if (lead && below_fstar > 1e-6 * std::max(1.0, std::abs(options.fstar.value_or(0.0))))
    std::cerr << "localsgd: warning: f(x_hat) = " << format_number(s.quality.objective)
              << " is below --fstar " << format_number(*options.fstar)
              << ": that is not the minimum, so the suboptimality and targets measured "
                 "against it are wrong (localsgd solve finds f*)\n";
  s.model = options.out;
  s.checkpoint = options.checkpoint;
  s.checkpoint_step = checkpoint_step;
  outcome.interrupted = r.interrupted;
  if (r.interrupted != 0) s.interrupted = r.interrupted == SIGINT ? "SIGINT" : "SIGTERM";
  s.threads = r.threads;
  s.load_seconds = problem.load_seconds() + setup_seconds;
  s.seconds = r.seconds;
  s.sync_seconds = r.sync_seconds;
  s.eval_seconds = r.eval_seconds;
  if (communicator != nullptr)
    s.mpi = TrainSummary::Mpi{communicator->ranks(),     run_exchange_seconds,
                              communicator->exchanges(), run_values_exchanged,
                              std::move(rank_rows.held), std::move(rank_rows.read)};

  // Rank 0 draws the plot here: a gnuplot that fails stops every rank.
  agree_on(communicator, [&] {
    for (TrainCallback* c : callbacks) c->on_end(s);
    if (rate) {
      s.rate_requested = true;
      s.rate = rate->fit();
    }
    if (target_stop) {
      s.target = TrainSummary::Target{options.target ? *options.target : *options.target_rel,
                                      !options.target.has_value(), target_stop->reached_at()};
      if (!s.target_reached() && r.interrupted == 0) {
        const std::string message = unmet_target(s, options);
        if (options.require_target)
          throw RuntimeFailure(message + " (--require-target; no model written)");
        if (options.warn_unmet_target && lead)
          std::cerr << "localsgd: warning: " << message << '\n';
      }
    }
  });
  agree_on(communicator, [&] {
    if (!options.out.empty() && lead)
      save_model(options.out, make_model(objective_manifest, options.objective.params,
                                         problem.objective(), run_data.cols, r.x_hat));
  });
  return outcome;
}

}  // namespace

TrainOutcome train(const Problem& problem, const TrainOptions& options,
                   std::span<TrainCallback* const> callbacks) {
  return train_on(problem, nullptr, options, callbacks);
}

TrainOutcome train(const TrainOptions& options,
                   const std::function<void(const nlohmann::ordered_json&)>& on_progress,
                   std::span<TrainCallback* const> more_callbacks) {
  // A process no launcher started has no other ranks to stop: its options are refused
  // before MPI starts (a singleton MPI_Init costs a second and leaves allocations behind).
  if (launched_rank() < 0)
    if (const auto error = options.validate()) throw UsageError(*error);
  Communicator* const communicator =
      options.backend == Backend::mpi ? &MpiCommunicator::world() : nullptr;
  if (communicator != nullptr) MpiCommunicator::world().set_exchanges_pending(true);
  std::unique_ptr<Problem> loaded;
  agree_on(communicator, [&] {
    if (const auto error = options.validate()) throw UsageError(*error);
    if (communicator != nullptr && options.data == "-" && communicator->ranks() > 1)
      throw UsageError(
          "--data - reads standard input, which mpirun gives to rank 0 alone: give a file every "
          "rank can read");
    ProblemSpec spec = ProblemSpec::of(options);
    if (communicator != nullptr) spec.select_rows = rows_to_read(options, *communicator);
    loaded = std::make_unique<Problem>(spec);
  });
  Problem& problem = *loaded;
  if (communicator != nullptr) read_every_row_if_needed(problem, options, *communicator);
  std::vector<TrainCallback*> callbacks(more_callbacks.begin(), more_callbacks.end());
  std::optional<ProgressEvents> events;
  if (on_progress) callbacks.push_back(&events.emplace(on_progress));
  TrainOutcome outcome = train_on(problem, &problem, options, callbacks);
  if (communicator != nullptr) MpiCommunicator::world().set_exchanges_pending(false);
  return outcome;
}

}  // namespace localsgd::core
