// Callbacks of a training run, in the style of ensmallen's: each implements only the
// hooks it needs. A run evaluates at the steps of its evaluation cadence (TrainOptions::
// eval_every, or once per epoch with a target, or 8 times per epoch with a plot) and
// hands each evaluation to every callback; any callback may stop the run there.
// Evaluation only reads the workers' state: a run is bitwise the same with or without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "localsgd/core/run/train_summary.hpp"
#include "localsgd/core/solve/rate_fit.hpp"

namespace localsgd::core {

class TrainCallback {
 public:
  virtual ~TrainCallback() = default;
  // Before the first step: the run's T, the samples a step takes over all workers (K b),
  // and the engine's count of the steps taken so far (EngineConfig::steps_done), which any
  // thread may read; shared, so that a reader that outlives a failed run reads valid memory.
  virtual void on_start(std::int64_t steps, std::int64_t samples_per_step,
                        std::shared_ptr<const std::atomic<std::int64_t>> steps_done) {
    (void)steps, (void)samples_per_step, (void)steps_done;
  }
  // Whether on_progress needs f(x̄), the gradient norm and the test score too (each a pass
  // over the data), or f(x̂) and the suboptimality are enough.
  virtual bool needs_full_assessment() const { return false; }
  virtual void on_progress(const Progress& progress) { (void)progress; }
  // Return true to end the run at this evaluation (it still ends with an average).
  virtual bool should_stop(const Progress& progress) {
    (void)progress;
    return false;
  }
  // After the run, with its summary.
  virtual void on_end(const TrainSummary& summary) { (void)summary; }
};

// Stops at the first evaluation where f(x̂) - f* <= EPS (or the relative gap <= EPS).
class TargetStop final : public TrainCallback {
 public:
  TargetStop(double eps, bool relative) : eps_(eps), relative_(relative) {}
  bool should_stop(const Progress& p) override;
  // Also counts the run's final assessment, at its last step, which may fall between
  // two checks.
  void on_end(const TrainSummary& summary) override;
  std::optional<std::int64_t> reached_at() const { return reached_at_; }
  bool reached(const Quality& q) const;
  // Checkpoints: what it has seen so far, and its return on resume.
  nlohmann::ordered_json save_state() const;
  void restore_state(const nlohmann::ordered_json& state);

 private:
  double eps_;
  bool relative_;
  std::optional<std::int64_t> reached_at_;
};

// Hands every progress event to `sink` as JSON (README "Output and exit codes"), e.g. to print it.
class ProgressEvents final : public TrainCallback {
 public:
  explicit ProgressEvents(std::function<void(const nlohmann::ordered_json&)> sink)
      : sink_(std::move(sink)) {}
  bool needs_full_assessment() const override { return true; }
  void on_progress(const Progress& p) override { sink_(p.to_json()); }

 private:
  std::function<void(const nlohmann::ordered_json&)> sink_;
};

// Draws f(x̂) - f* (or f(x̂) without f*) against epochs on a log scale with gnuplot, to
// an .svg or .png file, when the run ends.
class PlotCurve final : public TrainCallback {
 public:
  PlotCurve(std::filesystem::path path, std::string title)
      : path_(std::move(path)), title_(std::move(title)) {}
  void on_progress(const Progress& p) override;
  void on_end(const TrainSummary& summary) override;
  // Checkpoints: the curve so far, and its return on resume.
  nlohmann::ordered_json save_state() const;
  void restore_state(const nlohmann::ordered_json& state);

 private:
  std::filesystem::path path_;
  std::string title_;
  std::vector<std::pair<double, double>> curve_;  // (epochs, suboptimality or f)
  bool suboptimality_ = false;
};

// --fit-rate: f(x̂) - f* at every evaluation and at the end, and the rate fitted to the
// tail of the run (solve/rate_fit.hpp) when it ends.
class RateFitter final : public TrainCallback {
 public:
  void on_progress(const Progress& p) override;
  void on_end(const TrainSummary& summary) override;
  const std::optional<RateFit>& fit() const { return fit_; }
  // Checkpoints: the gaps so far, and their return on resume.
  nlohmann::ordered_json save_state() const;
  void restore_state(const nlohmann::ordered_json& state);

 private:
  void add(std::int64_t step, const std::optional<double>& gap);
  std::vector<std::int64_t> steps_;
  std::vector<double> gaps_;
  std::optional<RateFit> fit_;
};

}  // namespace localsgd::core
