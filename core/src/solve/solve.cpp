#include "localsgd/core/solve/solve.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <numeric>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "localsgd/core/errors.hpp"
#include "solve/solver_preconditioner.hpp"

namespace localsgd::core {
namespace {

using Vector = std::vector<double>;

double dot(const Vector& a, const Vector& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
// max |a_j|, 0 for an empty a.
double largest_magnitude(const Vector& a) {
  double m = 0;
  for (const double v : a) m = std::max(m, std::abs(v));
  return m;
}

double norm(const Vector& a) {
  return std::sqrt(dot(a, a));
}

// Dense Hessians up to this dimension are factored by Cholesky; larger ones use CG.
constexpr std::int64_t kCholeskyMaxDimension = 3000;
// Rows a Hessian block holds (its work is told after each: at most 0.1 s here at d = 3000).
constexpr std::int64_t kHessianBlock = 128;
// Conjugate-gradient products a Newton step is assumed to take, to weigh it against Cholesky.
constexpr double kCgProducts = 50;
// How many times faster a multiply-add of a dense symmetric rank-k update is than one of the
// entry-by-entry sparse outer products, at dimension d: the entry-by-entry updates slow
// down as H outgrows the caches. Whole solves on dense rows with each path forced
// (docs/BENCHMARKS.md, "The exact solver") were about 4 times faster by rank-k updates at
// d = 250, 5 at 500, 7 at 1000 and 10 at 2000.
double dense_speedup(std::int64_t d) {
  return std::clamp(static_cast<double>(d) / 100.0, 4.0, 20.0);
}

// Is f within `relative_tolerance` of f*? With mu known, f - f* <= |g|^2/(2 mu) is a
// guarantee; otherwise the caller's Newton decrement (or |g|) stands in for it.
// The scale gaps are measured against: |f|, but not below 1e-8 of f at x_0, so that a
// problem whose f* is 0 (an exact fit) can converge too.
double gap_scale(double f, double f0) {
  return std::max({std::abs(f), 1e-8 * std::abs(f0), 1e-300});
}

bool converged(double gap_bound, double f, double f0, double relative_tolerance) {
  return gap_bound <= relative_tolerance * gap_scale(f, f0);
}

// An iteration, to options.on_iteration when there is one.
void tell(const SolveOptions& options, const SolveResult& result, double f, double f0, double gap) {
  if (options.on_iteration)
    options.on_iteration({result.iterations, f, gap, options.relative_tolerance * gap_scale(f, f0),
                          result.method.c_str()});
}

// Work inside an iteration, to options.on_work when there is one.
void working(const SolveOptions& options, const SolveResult& result) {
  if (options.on_work) options.on_work(result.iterations, result.method.c_str());
}

// A line search that cannot decrease f any more is at the limit of double precision; the
// result counts as converged when the method's own model puts f* that close.
bool stalled_at_precision(double gap_estimate, double f, double f0) {
  return converged(gap_estimate, f, f0, kStallTolerance);
}

// ------------------------------------------------------------------ generalised-linear

// f, gradient and the curvature weights D_i = phi''(z_i) of a margin objective, with the
// margins z = Ã x kept so that a line search costs one pass over z.
class MarginProblem {
 public:
  MarginProblem(const MarginObjective& objective, const DataView& data)
      : f_(objective),
        data_(data),
        n_(static_cast<double>(data.rows())),
        d_(static_cast<std::size_t>(objective.dimension())),
        weights_(f_.has_intercept() ? d_ - 1 : d_),
        z_(static_cast<std::size_t>(data.rows())),
        dphi_(z_.size()),
        d2phi_(z_.size()),
        shifted_(z_.size()) {}

  std::size_t dimension() const { return d_; }

  // Ã v for any v of the model's shape.
  void multiply(const Vector& v, Vector& out) const {
    out.resize(z_.size());
    for (std::int64_t i = 0; i < data_.rows(); ++i)
      out[static_cast<std::size_t>(i)] = f_.margin(data_.row(i), v);
  }

  // Loss at margins z + t q and weights w + t p (the line search's trial point).
  double value_along(const Vector& x, const Vector& p, const Vector& q, double t) const {
    double loss = 0.0;
    for (std::size_t i = 0; i < z_.size(); ++i)
      loss += f_.margin_loss(z_[i] + t * q[i], data_.label[i]);
    double norm2 = 0.0;
    for (std::size_t j = 0; j < weights_; ++j) {
      const double w = x[j] + t * p[j];
      norm2 += w * w;
    }
    return loss / n_ + 0.5 * f_.lambda() * norm2;
  }

  // Evaluates f, the gradient and D at x.
  double evaluate(const Vector& x, Vector& gradient) {
    multiply(x, z_);
    f_.margin_derivatives(z_, data_.label, dphi_);
    f_.margin_second_derivatives(z_, data_.label, d2phi_);
    gradient.assign(d_, 0.0);
    double loss = 0.0;
    for (std::int64_t i = 0; i < data_.rows(); ++i) {
      const auto ui = static_cast<std::size_t>(i);
      loss += f_.margin_loss(z_[ui], data_.label[ui]);
      const SparseRow row = data_.row(i);
      for (std::int64_t j = 0; j < row.size; ++j)
        gradient[row.index[j]] += dphi_[ui] * row.value[j];
      if (f_.has_intercept()) gradient.back() += dphi_[ui];
    }
    double norm2 = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      gradient[j] /= n_;
      if (j < weights_) {
        gradient[j] += f_.lambda() * x[j];
        norm2 += x[j] * x[j];
      }
    }
    return loss / n_ + 0.5 * f_.lambda() * norm2;
  }

  // d f / d beta at the last evaluated point with the intercept moved by t: the mean of
  // phi'(z_i + t).
  double intercept_slope(double t) {
    for (std::size_t i = 0; i < z_.size(); ++i) shifted_[i] = z_[i] + t;
    f_.margin_derivatives(shifted_, data_.label, dphi_);
    return std::accumulate(dphi_.begin(), dphi_.end(), 0.0) / n_;
  }

  // The mean of D_i = phi''(z_i) at the last evaluated point.
  double mean_curvature() const { return std::accumulate(d2phi_.begin(), d2phi_.end(), 0.0) / n_; }

  // H v = Ãᵀ D Ã v / n + lambda v (weights only), at the last evaluated point.
  void hessian_times(const Vector& v, Vector& out) const {
    Vector av;
    multiply(v, av);
    out.assign(d_, 0.0);
    for (std::int64_t i = 0; i < data_.rows(); ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const double c = d2phi_[ui] * av[ui] / n_;
      const SparseRow row = data_.row(i);
      for (std::int64_t j = 0; j < row.size; ++j) out[row.index[j]] += c * row.value[j];
      if (f_.has_intercept()) out.back() += c;
    }
    for (std::size_t j = 0; j < weights_; ++j) out[j] += f_.lambda() * v[j];
  }

  // The full Hessian at the last evaluated point, for a Cholesky solve; `work` is called
  // after every block of kHessianBlock rows.
  //
  // H = Ãᵀ D Ã / n + lambda I, lower triangle, in blocks of rows: a dense enough block adds
  // Bᵀ B (B: its rows times sqrt(D_i / n), as a dense matrix) by one symmetric rank-k update,
  // which runs at matrix-product speed; a sparse one adds its rows' outer products entry by
  // entry (slower per multiply-add, dense_speedup(), but only on the nonzeros). A 4000 x 2500
  // dense Hessian took 45 s entry by entry, 2 s by rank-k updates.
  template <class Work>
  Eigen::MatrixXd hessian(Work&& work) const {
    const auto d = static_cast<Eigen::Index>(d_);
    Eigen::MatrixXd H = Eigen::MatrixXd::Zero(d, d);
    const Eigen::Index bias = f_.has_intercept() ? d - 1 : -1;
    const std::int64_t n = data_.rows();
    Eigen::MatrixXd B;
    for (std::int64_t first = 0; first < n; first += kHessianBlock) {
      const std::int64_t end = std::min(n, first + kHessianBlock);
      const auto rows = static_cast<Eigen::Index>(end - first);
      bool nonnegative = true;
      for (std::int64_t i = first; i < end; ++i)
        nonnegative = nonnegative && d2phi_[static_cast<std::size_t>(i)] >= 0;
      if (nonnegative && block_cost(first, end).dense_pays()) {
        B.setZero(rows, d);
        for (std::int64_t i = first; i < end; ++i) {
          const auto r = static_cast<Eigen::Index>(i - first);
          const double scale = std::sqrt(d2phi_[static_cast<std::size_t>(i)] / n_);
          const SparseRow row = data_.row(i);
          for (std::int64_t a = 0; a < row.size; ++a) B(r, row.index[a]) = scale * row.value[a];
          if (bias >= 0) B(r, bias) = scale;
        }
        H.selfadjointView<Eigen::Lower>().rankUpdate(B.transpose());
      } else {
        add_rows_entrywise(first, end, H);
      }
      work();
    }
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(weights_); ++j) H(j, j) += f_.lambda();
    return H.selfadjointView<Eigen::Lower>();
  }

  // Whether Newton-Cholesky pays: building and factoring H (d³/3) must cost less than the
  // products of conjugate gradients would, about kCgProducts a Newton step, 2 nnz each.
  // At d = 3000, 1200 rows of a few hundred nonzeros took 29 s by Cholesky, 0.7 s by CG.
  bool cholesky_pays() const {
    double cost = std::pow(static_cast<double>(d_), 3) / 3 / dense_speedup(d_);
    for (std::int64_t first = 0; first < data_.rows(); first += kHessianBlock)
      cost += block_cost(first, std::min(data_.rows(), first + kHessianBlock)).entrywise();
    const double entries = static_cast<double>(data_.nnz()) +
                           (f_.has_intercept() ? static_cast<double>(data_.rows()) : 0.0);
    return cost <= kCgProducts * 2 * entries;
  }

  // What adding rows [first, end) to H costs, in entry-by-entry multiply-adds.
  struct BlockCost {
    double pairs;  // entry by entry: on the nonzeros (and the intercept) of each row
    double dense;  // as a dense block, dense_speedup() times cheaper each
    double speedup;
    bool dense_pays() const { return speedup * pairs > dense; }
    double entrywise() const { return std::min(pairs, dense / speedup); }
  };
  BlockCost block_cost(std::int64_t first, std::int64_t end) const {
    const double extra = f_.has_intercept() ? 1 : 0;
    double pairs = 0;
    for (std::int64_t i = first; i < end; ++i) {
      const double size = static_cast<double>(data_.row(i).size) + extra;
      pairs += size * (size + 1) / 2;
    }
    const auto d = static_cast<double>(d_);
    return {pairs, static_cast<double>(end - first) * d * (d + 1) / 2,
            dense_speedup(static_cast<std::int64_t>(d_))};
  }

  // Adds rows [first, end)'s outer products to H's lower triangle, nonzero by nonzero.
  void add_rows_entrywise(std::int64_t first, std::int64_t end, Eigen::MatrixXd& H) const {
    const Eigen::Index bias = f_.has_intercept() ? H.rows() - 1 : -1;
    double* const h = H.data();  // column-major: H(r, c) = h[c * ld + r]
    const auto ld = static_cast<std::size_t>(H.rows());
    for (std::int64_t i = first; i < end; ++i) {
      const double c = d2phi_[static_cast<std::size_t>(i)] / n_;
      if (c == 0.0) continue;
      const SparseRow row = data_.row(i);
      for (std::int64_t a = 0; a < row.size; ++a) {
        const double ca = c * row.value[a];
        const auto ra = static_cast<std::size_t>(row.index[a]);
        for (std::int64_t b = 0; b <= a; ++b)
          h[static_cast<std::size_t>(row.index[b]) * ld + ra] += ca * row.value[b];
        if (bias >= 0) H(bias, row.index[a]) += ca;
      }
      if (bias >= 0) H(bias, bias) += c;
    }
  }

 private:
  const MarginObjective& f_;
  const DataView& data_;
  const double n_;
  const std::size_t d_, weights_;
  Vector z_, dphi_, d2phi_, shifted_;
};

// Moves the intercept (the last coordinate of x) to its best value for x's weights, and
// evaluates f there: f is convex in it alone, so bisection on its slope finds it, after
// doubling a bracket from 0. Newton needs this where the loss is flat far from the
// targets: at x_0 every Huber residual of targets offset by 1e5 lies beyond delta, the
// intercept has no curvature, and the solve crept 1 a step and did not converge.
double best_intercept(MarginProblem& problem, Vector& x, Vector& gradient) {
  const double slope = problem.intercept_slope(0);
  if (slope == 0 || !std::isfinite(slope)) return problem.evaluate(x, gradient);
  const double direction = slope < 0 ? 1.0 : -1.0;  // downhill
  double near = 0, far = direction;
  for (int doubling = 0; doubling < 1100 && direction * problem.intercept_slope(far) < 0;
       ++doubling)
    near = far, far *= 2;
  // The slope changes sign between near and far (or never does: far is then as far as
  // doubles go, and Newton takes over from there).
  for (int halving = 0; halving < 200; ++halving) {
    const double middle = near + (far - near) / 2;
    if (middle == near || middle == far) break;
    (direction * problem.intercept_slope(middle) < 0 ? near : far) = middle;
  }
  x.back() += near;
  return problem.evaluate(x, gradient);
}

// How closely conjugate gradients solve a Newton step: sqrt(|g|), for superlinear
// convergence, but never tighter than 1e-6, where the products' rounding stalls CG (it ran
// thousands of products at |g| = 1e-11 for nothing); Newton then still gains six digits a
// step.
double cg_forcing(double gnorm) {
  return std::clamp(std::sqrt(gnorm), 1e-6, 0.1);
}

// Preconditioned conjugate gradients on H p = -g, to a residual `forcing` times -g's,
// both in the M^{-1} norm (as CG in whitened coordinates measures them).
template <class HessianTimes>
Vector conjugate_gradient(HessianTimes&& H, const Vector& g, const SolverPreconditioner& M,
                          double forcing, std::int64_t max_iter) {
  const std::size_t d = g.size();
  Vector p(d, 0.0), r(d), z, s, Hs(d);
  for (std::size_t j = 0; j < d; ++j) r[j] = -g[j];
  M.apply(r, z);
  s = z;
  double rz = dot(r, z);
  const double target = forcing * forcing * rz;
  for (std::int64_t k = 0; k < max_iter && rz > target; ++k) {
    H(s, Hs);
    const double curvature = dot(s, Hs);
    if (curvature <= 0) break;  // not positive definite along s: stop with what we have
    const double alpha = rz / curvature;
    for (std::size_t j = 0; j < d; ++j) {
      p[j] += alpha * s[j];
      r[j] -= alpha * Hs[j];
    }
    M.apply(r, z);
    const double rz_next = dot(r, z);
    for (std::size_t j = 0; j < d; ++j) s[j] = z[j] + rz_next / rz * s[j];
    rz = rz_next;
  }
  if (dot(p, p) == 0.0) p = z;  // fall back to (preconditioned) steepest descent
  return p;
}

SolveResult newton_margin(const MarginObjective& objective, const DataView& data, double mu,
                          const SolveOptions& options) {
  MarginProblem problem(objective, data);
  const std::size_t d = problem.dimension();
  // An explicit Hessian of columns far from centred rounds their spread away (a
  // Cholesky solve on 100 columns of mean 1e8 failed at its first step); CG preconditioned
  // by the centred whitening does not form it.
  const bool cholesky = static_cast<std::int64_t>(d) <= kCholeskyMaxDimension &&
                        problem.cholesky_pays() && !columns_far_from_centred(data);
  const auto preconditioner =
      cholesky ? nullptr : std::make_unique<SolverPreconditioner>(objective, data);
  SolveResult result;
  result.method = cholesky ? "newton-cholesky" : "newton-cg";
  Vector x(d, 0.0), g, p(d), q;
  objective.initial_point(0, x);
  double f = problem.evaluate(x, g);
  const double f0 = f;
  if (objective.has_intercept()) f = best_intercept(problem, x, g);
  for (result.iterations = 0; result.iterations < options.max_iterations; ++result.iterations) {
    const double gnorm = norm(g);
    if (gnorm == 0.0) {
      result.converged = true;
      result.gap_estimate = 0;
      break;
    }
    const auto work = [&] { working(options, result); };
    work();
    if (cholesky) {
      const Eigen::MatrixXd H = problem.hessian(work);
      const Eigen::LDLT<Eigen::MatrixXd> factor(H);
      Eigen::Map<const Eigen::VectorXd> gv(g.data(), static_cast<Eigen::Index>(d));
      Eigen::Map<Eigen::VectorXd>(p.data(), static_cast<Eigen::Index>(d)) = factor.solve(-gv);
    } else {
      preconditioner->set_curvature(problem.mean_curvature());
      p = conjugate_gradient(
          [&](const Vector& v, Vector& out) {
            work();
            problem.hessian_times(v, out);
          },
          g, *preconditioner, cg_forcing(gnorm), 10 * static_cast<std::int64_t>(d));
    }
    double slope = dot(g, p);
    if (!(slope < 0)) {  // not a descent direction (numerically singular H): use -g
      for (std::size_t j = 0; j < d; ++j) p[j] = -g[j];
      slope = -gnorm * gnorm;
    }
    // f - f* is about half the Newton decrement -gᵀp near the optimum; with mu known the
    // bound |g|^2/(2 mu) is a guarantee.
    const double gap = std::isfinite(mu) ? gnorm * gnorm / (2 * mu) : -0.5 * slope;
    tell(options, result, f, f0, gap);
    const bool done = converged(gap, f, f0, options.relative_tolerance);
    result.converged = done;
    result.gap_estimate = -0.5 * slope;
    problem.multiply(p, q);
    // Margins of the step: Ã p includes the intercept's unit column. Backtracking, for as
    // long as the step still moves x: where the loss has no curvature at x (the smoothed
    // hinge's linear part) the Newton step is -g/lambda, and with features of scale 1e14
    // the step that helps is 1e-31 of it.
    const double floor = 1e-17 * (1 + largest_magnitude(x)) / largest_magnitude(p);
    double t = 1.0, trial = problem.value_along(x, p, q, t);
    while (!(trial <= f + 1e-4 * t * slope) && t > floor) {
      work();
      t *= 0.5;
      trial = problem.value_along(x, p, q, t);
    }
    const bool improved = trial < f;
    if (improved) {
      for (std::size_t j = 0; j < d; ++j) x[j] += t * p[j];
      f = problem.evaluate(x, g);
    }
    // A converged iterate still takes its (tiny, quadratically convergent) last step.
    if (done || !improved) {
      result.iterations += improved ? 1 : 0;
      if (!improved) result.converged = done || stalled_at_precision(result.gap_estimate, f, f0);
      break;
    }
  }
  result.x = std::move(x);
  result.fstar = f;
  result.grad_norm = norm(g);
  return result;
}

// ------------------------------------------------------------------- general objectives

class GeneralProblem {
 public:
  GeneralProblem(const Objective& objective, const DataView& data)
      : f_(objective), data_(data), rows_(static_cast<std::size_t>(data.rows())) {
    std::iota(rows_.begin(), rows_.end(), std::int64_t{0});
  }
  double evaluate(const Vector& x, Vector& gradient) const {
    gradient.resize(x.size());
    return f_.loss_and_gradient(data_, rows_, x, gradient);
  }

 private:
  const Objective& f_;
  const DataView& data_;
  std::vector<std::int64_t> rows_;
};

// Newton-CG when the objective multiplies by its Hessian, L-BFGS otherwise.
SolveResult quasi_newton(const Objective& objective, const DataView& data, double mu,
                         const SolveOptions& options) {
  GeneralProblem problem(objective, data);
  const auto d = static_cast<std::size_t>(objective.dimension());
  Vector x(d, 0.0), g, probe(d), out(d), p(d), x_next(d), g_next;
  objective.initial_point(0, x);
  const bool has_hv = objective.hessian_vector_product(data, x, x, out);
  SolverPreconditioner M(objective, data);
  SolveResult result;
  result.method = has_hv ? "newton-cg" : "lbfgs";
  const std::int64_t max_iterations = has_hv ? options.max_iterations : 50 * options.max_iterations;
  double f = problem.evaluate(x, g);
  const double f0 = f;
  std::deque<std::pair<Vector, Vector>> memory;  // (s, y) pairs of L-BFGS
  constexpr std::size_t kMemory = 20;

  for (result.iterations = 0; result.iterations < max_iterations; ++result.iterations) {
    const double gnorm = norm(g);
    if (gnorm == 0.0) {
      result.converged = true;
      result.gap_estimate = 0;
      break;
    }
    // With mu known, the gap bound needs no step: a converged iterate costs no products.
    if (std::isfinite(mu) &&
        converged(gnorm * gnorm / (2 * mu), f, f0, options.relative_tolerance)) {
      result.gap_estimate = gnorm * gnorm / (2 * mu);
      tell(options, result, f, f0, result.gap_estimate);
      result.converged = true;
      break;
    }
    working(options, result);
    if (has_hv) {
      if (M.active()) {  // the loss's curvature along g: one more product
        objective.hessian_vector_product(data, x, g, out);
        const double form = M.data_form(g);
        if (form > 0) M.set_curvature((dot(g, out) - M.lambda() * dot(g, g)) / form);
      }
      p = conjugate_gradient(
          [&](const Vector& v, Vector& hv) {
            working(options, result);
            hv.resize(d);
            objective.hessian_vector_product(data, x, v, hv);
          },
          g, M, cg_forcing(gnorm), 10 * static_cast<std::int64_t>(d));
    } else {  // L-BFGS two-loop recursion, its initial Hessian gamma M
      Vector q;
      p = g;
      std::vector<double> alphas(memory.size());
      for (std::size_t k = memory.size(); k-- > 0;) {
        const auto& [s, y] = memory[k];
        alphas[k] = dot(s, p) / dot(y, s);
        for (std::size_t j = 0; j < d; ++j) p[j] -= alphas[k] * y[j];
      }
      M.apply(p, q);
      if (!memory.empty()) {
        const auto& [s, y] = memory.back();
        Vector My;
        M.apply(y, My);
        const double gamma = dot(s, y) / dot(y, My);
        for (std::size_t j = 0; j < d; ++j) p[j] = gamma * q[j];
      } else {  // a first step of length at most 1 in the M norm
        const double scale = 1.0 / std::max(1.0, std::sqrt(dot(g, q)));
        for (std::size_t j = 0; j < d; ++j) p[j] = scale * q[j];
      }
      for (std::size_t k = 0; k < memory.size(); ++k) {
        const auto& [s, y] = memory[k];
        const double beta = dot(y, p) / dot(y, s);
        for (std::size_t j = 0; j < d; ++j) p[j] += (alphas[k] - beta) * s[j];
      }
      for (double& v : p) v = -v;
    }
    double slope = dot(g, p);
    if (!(slope < 0)) {
      for (std::size_t j = 0; j < d; ++j) p[j] = -g[j];
      slope = -gnorm * gnorm;
      memory.clear();
    }
    const double gap = std::isfinite(mu) ? gnorm * gnorm / (2 * mu) : -0.5 * slope;
    tell(options, result, f, f0, gap);
    result.gap_estimate = -0.5 * slope;
    if (converged(gap, f, f0, options.relative_tolerance)) {
      result.converged = true;
      break;
    }
    double t = 1.0, f_next = 0.0;
    while (true) {
      working(options, result);
      for (std::size_t j = 0; j < d; ++j) x_next[j] = x[j] + t * p[j];
      f_next = problem.evaluate(x_next, g_next);
      if (f_next <= f + 1e-4 * t * slope || t < 1e-20) break;
      t *= 0.5;
    }
    if (!(f_next < f)) {  // no further progress at double precision
      result.converged = stalled_at_precision(result.gap_estimate, f, f0);
      break;
    }
    Vector s(d), y(d);
    for (std::size_t j = 0; j < d; ++j) {
      s[j] = x_next[j] - x[j];
      y[j] = g_next[j] - g[j];
    }
    if (dot(s, y) > 1e-300) {
      memory.emplace_back(std::move(s), std::move(y));
      if (memory.size() > kMemory) memory.pop_front();
    }
    x.swap(x_next);
    g.swap(g_next);
    f = f_next;
  }
  result.x = std::move(x);
  result.fstar = f;
  result.grad_norm = norm(g);
  return result;
}

}  // namespace

SolveResult solve(const Objective& objective, const DataView& data, const SolveOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const Curvature curvature = objective.curvature();
  if (!curvature.convex)
    throw UsageError(
        "the objective does not declare itself convex; solve finds global optima of "
        "convex objectives only");
  if (data.rows() < 1) throw UsageError("the data set has no rows");
  const double mu = curvature.mu > 0 ? curvature.mu : kUnknown;
  SolveResult result = objective.as_margin() != nullptr
                           ? newton_margin(*objective.as_margin(), data, mu, options)
                           : quasi_newton(objective, data, mu, options);
  if (!std::isfinite(result.fstar) || !std::isfinite(result.grad_norm))
    throw PluginError(std::string("the objective's ") +
                      (std::isfinite(result.fstar) ? "gradient" : "value") +
                      " is not finite at the iterate of solve (after " +
                      std::to_string(result.iterations) + " iterations)");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void fit_intercept(const MarginObjective& objective, const DataView& data, std::span<double> x) {
  if (!objective.has_intercept() || data.rows() == 0) return;
  MarginProblem problem(objective, data);
  Vector point(x.begin(), x.end()), gradient;
  problem.evaluate(point, gradient);
  best_intercept(problem, point, gradient);
  x.back() = point.back();
}

std::string unconverged_message(const SolveResult& r) {
  return "solve did not converge: after " + std::to_string(r.iterations) + " iterations of " +
         r.method + " the gradient norm is " + brief_number(r.grad_norm) +
         " and f - f* is estimated at " + brief_number(r.gap_estimate) +
         " (f = " + brief_number(r.fstar) + ")";
}

}  // namespace localsgd::core
