// Stops a run whose objective is running away, before its values overflow: at every
// check, and on the final assessment, f(x̂) and f(x̄) are compared with f(x_0) (for a
// warm start, the larger of f(x_0) and f at the objective's initial point).
//
// A run diverges when f at a check exceeds kFactor times f(x_0) (for the convex models
// f(x_0) is an upper bound of where SGD should ever be after a few steps; the MLP starts
// at a random point whose f it should also stay near), or when f(x̂) rose at each of
// the last kRises checks to more than twice its lowest value and above f(x_0): x̂ is a
// weighted average, so it does not rise check after check from noise alone.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "localsgd/core/engine/step_size.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/train_options.hpp"
#include "localsgd/core/run/train_summary.hpp"

namespace localsgd::core {

class DivergenceGuard {
 public:
  DivergenceGuard(double f0, const TrainOptions& options, const StepSize& step_size)
      : f0_(f0), options_(options), step_size_(step_size) {}

  // Throws RuntimeFailure naming the step, the step size there and a smaller one to try.
  void check(std::int64_t step, const Quality& q, bool with_last) {
    const double f = with_last ? std::max(q.objective, q.objective_last) : q.objective;
    const double limit = kFactor * std::abs(f0_);
    if (f > limit && f > f0_)
      fail(step, "f = " + brief_number(f) + " is more than " + format_number(kFactor) +
                     " times f(x_0) = " + brief_number(f0_));
    rises_ = previous_ && q.objective > *previous_ ? rises_ + 1 : 0;
    previous_ = q.objective;
    lowest_ = std::min(lowest_, q.objective);
    if (rises_ >= kRises && q.objective > 2 * lowest_ && q.objective > f0_)
      fail(step, "f(x_hat) = " + brief_number(q.objective) + " rose at " + std::to_string(kRises) +
                     " checks in a row, from a lowest " + brief_number(lowest_) +
                     " (f(x_0) = " + brief_number(f0_) + ")");
  }

 private:
  static constexpr double kFactor = 10;
  static constexpr int kRises = 3;

  [[noreturn]] void fail(std::int64_t step, const std::string& what) const {
    const double eta = step_size_.at(std::max<std::int64_t>(0, step - 1));
    throw RuntimeFailure("diverging at step " + std::to_string(step) + ": " + what +
                         " with step size " + brief_number(eta) + " (" + step_size_.describe() +
                         "); try " + smaller_step() + " (no model written)");
  }

  // The same rule with a ten times smaller initial step: its own parameter name.
  std::string smaller_step() const {
    const char* key = options_.lr == StepRule::constant ? "eta" : "eta0";
    if (options_.lr == StepRule::paper)
      return "--lr invtime --lr-param eta0=" + brief_number(step_size_.at(0) / 10);
    const double initial =
        options_.lr_params.has(key)
            ? options_.lr_params.positive_number(key, 1.0)
            : step_size_.at(options_.lr_params.has("warmup")
                                ? options_.lr_params.positive_integer("warmup", 0)
                                : 0);
    return "--lr-param " + std::string(key) + "=" + brief_number(initial / 10);
  }

  const double f0_;
  const TrainOptions& options_;
  const StepSize& step_size_;
  std::optional<double> previous_;
  double lowest_ = HUGE_VAL;
  int rises_ = 0;
};

}  // namespace localsgd::core
