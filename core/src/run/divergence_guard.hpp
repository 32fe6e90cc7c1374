// Fails a run whose objective ran away, and stops one early before its values overflow.
// The reference is f(x_0) (for a warm start, the larger of f(x_0) and f at the
// objective's own initial point, since SGD's noise alone can multiply a small f).
//
// A run fails when f at its end (x̂ or x̄) exceeds kEndFactor times the reference. During
// the run only a catastrophe stops it early: f beyond kRunawayFactor times the reference
// at a check. Early spikes well below that often recover (softmax on dna.scale with a
// constant step of 10 passes f = 12 at step 1 and ends at 2.5), so a milder test at
// checks would make the verdict depend on how often the run is checked.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "localsgd/core/engine/step_size.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/train_options.hpp"
#include "localsgd/core/run/train_summary.hpp"

namespace localsgd::core {

class DivergenceGuard {
 public:
  // `whitened`: the default rule runs in whitened coordinates, where its step size has
  // no meaning for the explicit rules.
  DivergenceGuard(double reference, std::string reference_name, const TrainOptions& options,
                  const StepSize& step_size, bool whitened)
      : reference_(reference),
        reference_name_(std::move(reference_name)),
        options_(options),
        step_size_(step_size),
        whitened_(whitened) {}

  double reference() const { return reference_; }

  // At a check: throws RuntimeFailure past the runaway bound.
  void check(std::int64_t step, const Quality& q, bool with_last) const {
    test(step, with_last ? std::max(q.objective, q.objective_last) : q.objective, kRunawayFactor);
  }
  // At the end of the run.
  void check_end(std::int64_t step, const Quality& q) const {
    test(step, std::max(q.objective, q.objective_last), kEndFactor);
  }
  // The engine's own report of non-finite values, with the step size to try added.
  [[noreturn]] void rethrow(const Diverged& e) const {
    throw Diverged(std::string(e.what()) + "; try " + smaller_step());
  }

 private:
  static constexpr double kEndFactor = 10;
  static constexpr double kRunawayFactor = 1000;

  void test(std::int64_t step, double f, double factor) const {
    if (f > factor * std::abs(reference_) && f > reference_)
      fail(step, "f = " + brief_number(f) + " is more than " + format_number(factor) + " times " +
                     reference_name_ + " = " + brief_number(reference_));
  }

  [[noreturn]] void fail(std::int64_t step, const std::string& what) const {
    const double eta = step_size_.at(std::max<std::int64_t>(0, step - 1));
    throw RuntimeFailure("diverging at step " + std::to_string(step) + ": " + what +
                         " with step size " + brief_number(eta) + " (" + step_size_.describe() +
                         "); try " + smaller_step() + " (no model written)");
  }

  // The same rule with a ten times smaller initial step: its own parameter name.
  std::string smaller_step() const {
    const StepRule rule = options_.step_rule();
    if (rule == StepRule::automatic)
      return whitened_ ? std::string("--lr invtime (the step size from the objective's curvature)")
                       : "--lr constant --lr-param eta=" + brief_number(step_size_.at(0) / 10);
    const char* key = rule == StepRule::constant ? "eta" : "eta0";
    if (rule == StepRule::paper)
      return "--lr invtime --lr-param eta0=" + brief_number(step_size_.at(0) / 10);
    const double initial =
        options_.lr_params.has(key)
            ? options_.lr_params.positive_number(key, 1.0)
            : step_size_.at(options_.lr_params.has("warmup")
                                ? options_.lr_params.positive_integer("warmup", 0)
                                : 0);
    return "--lr-param " + std::string(key) + "=" + brief_number(initial / 10);
  }

  const double reference_;
  const std::string reference_name_;
  const TrainOptions& options_;
  const StepSize& step_size_;
  const bool whitened_;
};

}  // namespace localsgd::core
