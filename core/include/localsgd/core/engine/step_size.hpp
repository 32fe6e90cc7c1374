// Step-size rules. They live in the core (not a plugin kind): a rule is a pure function
// of the global step t, shared by all workers and continued across rounds.
//
//   paper     eta_t = 4 / (mu (a + t)),  a = max(16 kappa, H)        (Stich, Thm 2.2)
//   invtime   eta_t = min(eta0, c / (mu (t + 1)))   (the default is `auto`, run/default_step.hpp)
//   constant  eta_t = eta
//   sqrt      eta_t = eta0 / sqrt(t + 1)
//   step      eta_t = eta0 * gamma^floor(t / every)
// and, in front of any of them, `warmup=W`: eta_t * min(1, (t + 1)/W).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

class StepSize {
 public:
  virtual ~StepSize() = default;
  virtual double at(std::int64_t step) const = 0;
  // The rule's own shift a, which then also weights the output average (paper rule).
  virtual std::optional<double> shift() const { return std::nullopt; }
  // The rule with its exact parameters, e.g. "invtime(eta0=0.5,c=1,mu=2.0100906550885444e-05)":
  // the summary's `lr`, and what a checkpoint and the MPI ranks compare (the default
  // rule's step, chosen from the data and options alone, shows four digits).
  virtual std::string describe() const = 0;
};

struct StepSizeContext {
  const Objective& objective;  // curvature is asked for only by rules that need it
  std::int64_t batch;          // b
  std::int64_t rows;           // n
  std::int64_t period;         // nominal H of the schedule
};

// Parameters: paper: none; invtime: eta0, c; constant: eta; sqrt: eta0; step: eta0, gamma,
// every; all: warmup. Unknown names and keys are
// usage errors; a rule that needs mu or L the objective does not know is refused.
std::unique_ptr<StepSize> make_step_size(const std::string& name, const ParamMap& params,
                                         const StepSizeContext& context);

std::vector<std::string> step_size_names();

// Expected smoothness of a b-sample mini-batch (Gower et al. 2019, "SGD: general analysis
// and improved rates"): L(b) = n(b-1)/(b(n-1)) L + (n-b)/(b(n-1)) L_max. Step sizes up to
// 1/(2 L(b)) are safe for sampling without replacement, and a good default with it.
double minibatch_smoothness(double L, double L_max, std::int64_t n, std::int64_t b);

}  // namespace localsgd::core
