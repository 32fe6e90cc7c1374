#include "localsgd/core/run/default_step.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/engine/rng.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/train_options.hpp"

namespace localsgd::core {
namespace {

constexpr std::uint64_t kProbeStream = 0x70726f6265737465ull;  // "probeste"
// Probes run on all rows of a small data set, else on a seeded sample of n/128 rows (at
// least this many).
constexpr std::int64_t kMinProbeRows = 2048;
constexpr std::int64_t kMinProbeSteps = 256;
// Short probes favour the step sizes that make the most progress early, which is not the
// step that ends best: an ill-conditioned problem wants a step its first few hundred
// steps find too noisy, and a loss with bounded gradients far from its optimum (Huber
// with uncentred targets) makes the unpreconditioned step look better until the
// whitened one reaches its quadratic region. Each probe therefore runs for up to
// 1/kProbeShareOfRun of the run's samples, at most kMaxProbeStretch times its minimum.
// (README "Defaults", the uncentred_targets row of bench/defaults.py.)
// On a sample of a large data set the stretch is smaller, so that the probes stay a few
// per cent of a 10-pass run.
constexpr std::int64_t kProbeShareOfRun = 32;
constexpr std::int64_t kMaxProbeStretch = 16;
constexpr std::int64_t kMaxProbeStretchOnSample = 4;
// Whitening costs features^2 per block and step (two triangular solves); it is offered
// only while that stays within this factor of a plain step's cost.
constexpr double kMaxWhiteningCostRatio = 32;
constexpr std::int64_t kMaxWhitenedFeatures = 512;
constexpr int kMaxProbeMoves = 20;  // 2^20: beyond that the guess was not the problem
// Whitening that wins the probes is checked against plain steps at equal work when its
// step costs at least kMinCostRatioToCheck plain ones: the plain probe then runs for as
// many more samples as a whitened step costs plain ones, at most kMaxBudgetStretch. If
// plain wins, the run keeps plain steps and, on a default budget, takes the samples the
// whitened run's work buys (at most kMaxBudgetStretch times the budget; an explicit
// budget is a number of samples, and there the probes compare per sample): on digits with raw
// pixels (64 features, 10 classes) whitening won the probes per sample, and its run of 10^6
// gradients took 8.6 s to end at 0.097; plain steps take 10^7 gradients in 6.3 s to end at
// 0.00076 (README "Defaults", bench/defaults.py).
constexpr double kMinCostRatioToCheck = 2;
constexpr double kMaxBudgetStretch = 10;

// The run's step: η for the first half of the T steps, then linearly down to η/1000 at
// T. A constant step ends in a noise ball around x* whose size grows with η; the decay
// shrinks it before the weighted average x̂ (which leans on the last iterates) is taken.
// Measured over seeds 1-5 on the twelve data sets of bench/defaults.py (README
// "Defaults"): the worst seed's (f − f*)/f* fell on ten of them (w8a 0.014 → 0.0092,
// where the probes of some seeds pick η ≈ 2.7, twice seed 1's), rose on a9a (0.0011 →
// 0.0012) and digits_raw (0.083 → 0.097).
class ConstantThenLinearDecay final : public StepSize {
 public:
  ConstantThenLinearDecay(double eta, std::int64_t steps, std::string name)
      : eta_(eta), decay_start_(static_cast<double>(steps) / 2), name_(std::move(name)) {}
  double at(std::int64_t t) const override {
    const double s = static_cast<double>(t);
    if (s < decay_start_) return eta_;
    return eta_ * std::max(kFinalFraction, 1.0 - (s - decay_start_) / decay_start_);
  }
  std::string describe() const override { return name_; }

 private:
  static constexpr double kFinalFraction = 1e-3;
  double eta_, decay_start_;
  std::string name_;
};

class ConstantRule final : public StepSize {
 public:
  ConstantRule(double eta, std::string name) : eta_(eta), name_(std::move(name)) {}
  double at(std::int64_t) const override { return eta_; }
  std::string describe() const override { return name_; }

 private:
  double eta_;
  std::string name_;
};

// Short constant-step runs of the engine itself (one worker, so sparse models take their
// sparse path) on a seeded sample of the rows, scored by f on that sample.
class Probe {
 public:
  Probe(const Objective& objective, const DataView& sample, std::int64_t batch, std::uint64_t seed,
        std::vector<double> start, std::int64_t steps, std::int64_t& samples)
      : objective_(objective), sample_(sample), samples_(samples) {
    config_.workers = 1;
    config_.batch = batch;
    config_.steps = steps;
    config_.seed = seed;
    config_.threads = 1;
    config_.exact_threads = true;
    config_.schedule_name = "probe";
    config_.initial_model = std::move(start);
  }

  // f on the sample at the last iterate; +inf when the run blew up.
  double after(double eta) const {
    const ConstantRule rule(eta, "constant");
    const auto schedule = make_schedule(load_plugin("constant", PluginKind::schedule), {});
    samples_ += config_.steps * config_.batch;
    ++probes_;
    try {
      const EngineResult r = run_local_sgd(objective_, sample_, *schedule, rule, config_);
      const double f = evaluate_objective(objective_, sample_, r.x_last);
      return std::isfinite(f) ? f : std::numeric_limits<double>::infinity();
    } catch (const RuntimeFailure&) {  // non-finite iterates, or a lazy L2 decay <= 0
      return std::numeric_limits<double>::infinity();
    }
  }

  int probes() const { return probes_; }

  // Walks eta by factors of 2 from `guess` toward lower f; returns (best eta, its f).
  std::pair<double, double> best(double guess) const {
    double eta = guess, f = after(eta);
    for (const double factor : {2.0, 0.5}) {
      bool moved = false;
      for (int i = 0; i < kMaxProbeMoves; ++i) {
        const double next = after(eta * factor);
        if (!(next < f)) break;
        eta *= factor, f = next, moved = true;
      }
      if (moved) break;
    }
    return {eta, f};
  }

 private:
  const Objective& objective_;
  const DataView& sample_;
  EngineConfig config_;
  std::int64_t& samples_;
  mutable int probes_ = 0;
};

// How long each probe runs (see kProbeShareOfRun), and never longer than the run itself:
// a probe tunes η for its own horizon, and a run of a few steps (`--steps 1` on one row of
// a million features) must not wait for probes hundreds of times its length.
std::int64_t probe_steps(std::int64_t sample_rows, bool all_rows, std::int64_t batch, RunSize run) {
  const std::int64_t minimum =
      std::max<std::int64_t>(kMinProbeSteps, (sample_rows + batch - 1) / batch);
  const std::int64_t stretch = all_rows ? kMaxProbeStretch : kMaxProbeStretchOnSample;
  const std::int64_t steps =
      std::clamp(run.samples / kProbeShareOfRun / batch, minimum, stretch * minimum);
  return std::clamp<std::int64_t>(run.steps, 1, steps);
}

// The probes' rows: all of a small data set, else a seeded sample, copied so that the
// engine and the evaluation see a data set of their own.
std::vector<std::int64_t> probe_rows(std::int64_t n, std::uint64_t seed) {
  RandomStream stream(seed, kProbeStream, 0);
  const std::int64_t m = n <= kMinProbeRows ? n : std::max(kMinProbeRows, n / 128);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(m));
  for (std::int64_t k = 0; k < m; ++k)
    rows[static_cast<std::size_t>(k)] =
        n <= kMinProbeRows ? k
                           : static_cast<std::int64_t>(stream.below(static_cast<std::uint64_t>(n)));
  return rows;
}

Dataset probe_sample(const DataView& data, std::uint64_t seed) {
  return copy_rows(data, probe_rows(data.rows(), seed));
}

double mean_row_norm2(const DataView& data) {
  double s = 0;
  for (double v : data.value) s += v * v;
  return s / static_cast<double>(std::max<std::int64_t>(1, data.rows()));
}

// Whitening is offered to convex models whose parameters are blocks of the features
// (preconditioner.hpp), while its two triangular solves per block and step cost at most
// kMaxWhiteningCostRatio times a plain step.
struct WhiteningOffer {
  Whitening::Layout layout;
  bool centred;       // the full P costs too much a step: P Pᵀ = (D + m mᵀ)⁻¹ (centre-scale)
  double cost_ratio;  // a whitened step's cost in plain steps (> 1)
};

// Whitening is offered to convex models whose parameters are blocks of the features
// (preconditioner.hpp): the full P up to kMaxWhitenedFeatures features while its two
// triangular solves per block and step cost at most kMaxWhiteningCostRatio times a plain
// step, else the centred one (means and variances) while its O(dimension) dense step does.
std::optional<WhiteningOffer> whitening_offer(const Objective& objective, const DataView& data,
                                              std::int64_t entries, std::int64_t batch) {
  if (data.rows() == 0) return std::nullopt;
  const double nnz_per_row = static_cast<double>(entries) / static_cast<double>(data.rows());
  const double dimension = static_cast<double>(objective.dimension());
  const bool margin = objective.as_margin() != nullptr;  // plain steps are sparse
  const double per_block = static_cast<double>(batch) * (nnz_per_row + 1);
  const auto layout = Whitening::layout_of(objective, data);
  if (!layout) return std::nullopt;
  const double features = static_cast<double>(layout->features);
  const double blocks = static_cast<double>(layout->blocks);
  const double plain_cost = per_block * blocks + (margin ? 0.0 : dimension);
  const double full_cost = blocks * features * features;
  if (layout->features <= kMaxWhitenedFeatures && full_cost <= kMaxWhiteningCostRatio * plain_cost)
    return WhiteningOffer{*layout, false, 1 + full_cost / plain_cost};
  if (dimension <= kMaxWhiteningCostRatio * plain_cost)
    return WhiteningOffer{*layout, true, 1 + dimension / plain_cost};
  return std::nullopt;
}

}  // namespace

std::vector<std::int64_t> default_step_rows(std::int64_t rows, std::int64_t entries,
                                            std::uint64_t seed) {
  if (rows == 0) return {};
  std::vector<std::int64_t> all = probe_rows(rows, seed);
  const std::vector<std::int64_t> whitening =
      Whitening::sample_rows(rows, Whitening::max_rows_for(rows, entries));
  all.insert(all.end(), whitening.begin(), whitening.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

DefaultStep choose_default_step(const Objective& objective, const DataView& data,
                                std::int64_t entries, std::int64_t batch, std::uint64_t seed,
                                std::span<const double> start, RunSize run) {
  DefaultStep choice;
  const Dataset sample_set = probe_sample(data, seed);
  const DataView sample = sample_set.view();

  const std::int64_t steps = probe_steps(sample.rows(), sample.rows() == data.rows(), batch, run);
  const Probe plain(objective, sample, batch, seed, {start.begin(), start.end()}, steps,
                    choice.probe_samples);
  const double row_norm2 = mean_row_norm2(sample);  // 0 for rows without features
  auto [eta, f] = plain.best(row_norm2 > 0 ? 1.0 / row_norm2 : 1.0);
  int probes = plain.probes();
  choice.steps = run.steps;
  std::string equal_work;

  if (const auto offer = whitening_offer(objective, data, entries, batch)) {
    const Whitening::Layout* layout = &offer->layout;
    const MarginObjective* margin = objective.as_margin();
    const double mu = objective.strong_convexity();
    const double lambda = margin != nullptr ? margin->lambda() : std::isfinite(mu) ? mu : 0.0;
    auto whitening = std::make_unique<Whitening>(
        data, *layout, lambda, Whitening::max_rows_for(data.rows(), entries),
        offer->centred ? Whitening::Form::centred : Whitening::Form::full);
    auto whitened = whitened_objective(objective, *whitening);
    const Probe probe(*whitened, sample, batch, seed, whitening->to_whitened(start), steps,
                      choice.probe_samples);
    const auto [w_eta, w_f] = probe.best(1.0 / static_cast<double>(layout->features));
    probes += probe.probes();
    // Whitening won per sample; at equal work plain steps take cost_ratio times as many.
    const double stretch = std::min(offer->cost_ratio, kMaxBudgetStretch);
    bool plain_at_equal_work = false;
    if (w_f < f && stretch >= kMinCostRatioToCheck && run.default_budget) {
      const auto long_steps = static_cast<std::int64_t>(static_cast<double>(steps) * stretch);
      const Probe longer(objective, sample, batch, seed, {start.begin(), start.end()}, long_steps,
                         choice.probe_samples);
      // Its η, and half of it (a longer horizon may want a smaller step).
      for (const double candidate : {eta, eta / 2}) {
        const double long_f = longer.after(candidate);
        if (long_f < w_f && (!plain_at_equal_work || long_f < f))
          eta = candidate, f = long_f, plain_at_equal_work = true;
      }
      probes += longer.probes();
    }
    // The stretched run: at most kDefaultMaxSamples (a default budget's largest), unless
    // the budget was larger already (then it stays).
    if (plain_at_equal_work) {
      const double samples = static_cast<double>(std::max<std::int64_t>(1, run.samples));
      const double factor = std::clamp(kDefaultMaxSamples / samples, 1.0, stretch);
      choice.steps =
          static_cast<std::int64_t>(std::min(static_cast<double>(run.steps) * factor, 0x1p62));
    }
    if (w_f < f && !plain_at_equal_work) {
      eta = w_eta, f = w_f;
      choice.whitening = std::move(whitening);
      choice.whitened = std::move(whitened);
    }
    if (plain_at_equal_work) equal_work = ",plain-at-equal-work=" + brief_number(stretch) + "x";
  }
  choice.step_size = std::make_unique<ConstantThenLinearDecay>(
      eta, choice.steps,
      "auto:constant(eta=" + brief_number(eta) + ",probes=" + std::to_string(probes) + equal_work +
          ")+linear-decay(from=T/2)");
  return choice;
}

}  // namespace localsgd::core
