// The exact solver behind `localsgd solve` and the f* of `train --target`: minimises the
// full, deterministic objective to high accuracy.
//
//  * generalised-linear (MarginObjective): Newton's method with the exact Hessian
//    (1/n) A^T D A + lambda I, solved by Cholesky when d is small and H is cheap to build
//    and factor (dense blocks of rows by rank-k updates), else by conjugate gradients
//    (matrix-free); backtracking line search.
//  * any other convex objective: Newton-CG when it offers Hessian-vector products,
//    L-BFGS otherwise.
// Refuses objectives that do not declare themselves convex (UsageError).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// One iteration of the solver, as its progress display sees it.
struct SolveIteration {
  std::int64_t iteration = 0;
  double f = 0;
  double gap = 0;         // the bound (or estimate) of f - f* the convergence test uses
  double target_gap = 0;  // the gap at which it stops
  const char* method = "";
};

struct SolveOptions {
  // Stop when the optimality gap bound |g|^2 / (2 mu) (or, mu unknown, |g|) says f is
  // within relative_tolerance of f*.
  double relative_tolerance = 1e-12;
  std::int64_t max_iterations = 500;
  // Told of each iteration before its step (it cannot change the solve); optional.
  std::function<void(const SolveIteration&)> on_iteration;
  // Told every few milliseconds of work inside an iteration (the rows of a Hessian, the
  // products of conjugate gradients, the trials of a line search), with the iteration and
  // the method: a caller stops a long iteration by throwing (a signal) and keeps its
  // display alive; optional. One call of the objective (f and its gradient over all rows,
  // a plugin's Hessian-vector product) is not interrupted.
  std::function<void(std::int64_t iteration, const char* method)> on_work;
};

struct SolveResult {
  std::vector<double> x;  // x*
  double fstar = 0;       // f(x*)
  double grad_norm = 0;   // |grad f(x*)|
  std::int64_t iterations = 0;
  std::string method;  // "newton-cholesky", "newton-cg" or "lbfgs"
  double seconds = 0;
  // Whether f* is accurate: the gap test passed, or the method stopped making progress at
  // double precision with its own estimate of f - f* within kStallTolerance of |f|.
  // Otherwise (iterations exhausted, a stall far from the optimum) f* is only an upper
  // bound, by about gap_estimate.
  bool converged = false;
  double gap_estimate = 0;  // f - f* as the method's model predicts it at the end
};

// See SolveResult::converged.
inline constexpr double kStallTolerance = 1e-6;

// Throws PluginError when the objective's value or gradient is not finite (at x_0 or
// later); an unconverged result is returned with converged = false (callers decide).
SolveResult solve(const Objective& objective, const DataView& data,
                  const SolveOptions& options = {});

// Moves the intercept of a margin model that has one (x's last coordinate) to its best
// value for x's weights on `data` (f is convex in it alone: bisection on its slope). The
// solver starts from there, and so does train without --init (README "Defaults").
void fit_intercept(const MarginObjective& objective, const DataView& data, std::span<double> x);

// "solve did not converge: ..." with the numbers of `r`, for the callers' errors.
std::string unconverged_message(const SolveResult& r);

}  // namespace localsgd::core
