#include "localsgd/core/engine/preconditioner.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {

std::optional<Whitening::Layout> Whitening::layout_of(const Objective& objective,
                                                      const DataView& data) {
  if (data.cols <= 0) return std::nullopt;
  if (const MarginObjective* margin = objective.as_margin(); margin != nullptr) {
    const std::int64_t features = data.cols + (margin->has_intercept() ? 1 : 0);
    if (objective.dimension() != features) return std::nullopt;
    return Layout{features, 1, margin->has_intercept()};
  }
  const std::int64_t dimension = objective.dimension();
  if (!objective.curvature().convex || dimension % data.cols != 0) return std::nullopt;
  return Layout{data.cols, dimension / data.cols, false};
}

Whitening::Whitening(const DataView& data, const Layout& layout, double lambda,
                     std::int64_t max_rows, Form form)
    : layout_(layout), form_(form) {
  const std::int64_t d = layout.features;
  const std::int64_t n = data.rows();
  const std::int64_t m = std::max<std::int64_t>(1, std::min(n, max_rows));
  const std::vector<std::int64_t> rows = sample_rows(n, max_rows);
  if (form == Form::centred) {
    build_centred(data, lambda, rows, m);
    return;
  }
  if (form == Form::diagonal) {
    std::vector<double> g(static_cast<std::size_t>(d), 0.0);
    for (const std::int64_t i : rows) {
      const SparseRow row = data.row(i);
      for (std::int64_t p = 0; p < row.size; ++p)
        g[static_cast<std::size_t>(row.index[p])] += row.value[p] * row.value[p];
    }
    const std::int64_t weights = layout.intercept ? d - 1 : d;
    scale_.resize(g.size());
    for (std::int64_t j = 0; j < d; ++j) {
      const double gj =
          (j < weights ? g[static_cast<std::size_t>(j)] / static_cast<double>(m) + lambda : 1.0);
      scale_[static_cast<std::size_t>(j)] = gj > 0 ? std::sqrt(gj) : 1.0;
    }
    return;
  }
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(d, d);  // lower triangle accumulated
  for (const std::int64_t i : rows) {               // n = 0: G is the floor alone
    const SparseRow row = data.row(i);
    for (std::int64_t p = 0; p < row.size; ++p) {
      const std::int64_t i = row.index[p];
      const double v = row.value[p];
      for (std::int64_t q = 0; q <= p; ++q) {
        const std::int64_t j = row.index[q];
        G(std::max(i, j), std::min(i, j)) += v * row.value[q];  // the lower triangle
      }
      if (layout.intercept) G(d - 1, i) += v;
    }
    if (layout.intercept) G(d - 1, d - 1) += 1.0;
  }
  G /= static_cast<double>(m);
  const std::int64_t weights = layout.intercept ? d - 1 : d;
  for (std::int64_t j = 0; j < weights; ++j) G(j, j) += lambda;

  scale_.resize(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j)  // an empty column without lambda: any scale will do
    scale_[static_cast<std::size_t>(j)] = G(j, j) > 0 ? std::sqrt(G(j, j)) : 1.0;
  Eigen::MatrixXd C = G.selfadjointView<Eigen::Lower>();
  for (std::int64_t i = 0; i < d; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      C(i, j) /= scale_[static_cast<std::size_t>(i)] * scale_[static_cast<std::size_t>(j)];
  // A relative floor far below any scale of the data keeps C positive definite when
  // lambda = 0 and columns are collinear or empty; it changes nothing else.
  for (std::int64_t j = 0; j < d; ++j) C(j, j) += 1e-10;
  Eigen::LLT<Eigen::MatrixXd> llt(C);
  if (llt.info() != Eigen::Success)
    throw RuntimeFailure("the data's second-moment matrix is not positive definite");
  const Eigen::MatrixXd L = llt.matrixL();
  lower_.assign(static_cast<std::size_t>(d * d), 0.0);
  for (std::int64_t i = 0; i < d; ++i)
    for (std::int64_t j = 0; j <= i; ++j) lower_[static_cast<std::size_t>(i * d + j)] = L(i, j);
}

std::vector<std::int64_t> Whitening::sample_rows(std::int64_t n, std::int64_t max_rows) {
  const std::int64_t m = std::max<std::int64_t>(1, std::min(n, max_rows));
  std::vector<std::int64_t> rows;
  for (std::int64_t k = 0; k < std::min(n, m); ++k) rows.push_back(k * n / m);
  return rows;
}

std::int64_t Whitening::max_rows_for(std::int64_t n, std::int64_t entries) {
  const double nnz_per_row =
      static_cast<double>(entries) / static_cast<double>(std::max<std::int64_t>(1, n));
  return static_cast<std::int64_t>(
      std::clamp(1e8 / std::max(1.0, nnz_per_row * nnz_per_row), 1e3, 2e4));
}

void Whitening::build_centred(const DataView& data, double lambda,
                              std::span<const std::int64_t> sample, std::int64_t rows) {
  const auto weights =
      static_cast<std::size_t>(layout_.intercept ? layout_.features - 1 : layout_.features);
  // Two passes over the rows: means, then variances about them (not E[a^2] - m^2, which
  // loses the variance of features whose mean is far above their spread). A row's
  // missing entries are zeros, each (0 - m_j)^2 from the mean.
  std::vector<double> sum(weights, 0.0), count(weights, 0.0), square(weights, 0.0);
  const auto each_entry = [&](auto&& visit) {
    for (const std::int64_t i : sample) {
      const SparseRow row = data.row(i);
      for (std::int64_t p = 0; p < row.size; ++p)
        visit(static_cast<std::size_t>(row.index[p]), row.value[p]);
    }
  };
  each_entry([&](std::size_t j, double v) { sum[j] += v, count[j] += 1; });
  const auto m = static_cast<double>(rows);
  mean_.resize(weights);
  for (std::size_t j = 0; j < weights; ++j) mean_[j] = sum[j] / m;
  each_entry([&](std::size_t j, double v) { square[j] += (v - mean_[j]) * (v - mean_[j]); });
  scale_.assign(static_cast<std::size_t>(layout_.features), 1.0);
  for (std::size_t j = 0; j < weights; ++j) {
    const double zeros = m - count[j];  // each (0 - m_j)^2 from the mean
    const double variance = (square[j] + zeros * mean_[j] * mean_[j]) / m + lambda;
    // A constant column without lambda has no variance but rounding's (1e-32 of its
    // second moment): it takes its magnitude as its scale instead. The bound is far below
    // any real spread: a floor of 1e-10 of the second moment, as the full form has, made a
    // column of mean 1e6 and variance 1 look 10 times wider than it is, and the default run
    // on 600 features, 100 of them such, ended at 3.8 instead of 2.8e-4.
    const double second_moment = variance + mean_[j] * mean_[j];
    const double spread = variance > 1e-20 * second_moment ? variance : second_moment;
    scale_[j] = spread > 0 ? std::sqrt(spread) : 1.0;
  }
  if (layout_.intercept) return;  // exact centring through the intercept
  direction_.resize(weights);
  double s = 0;
  for (std::size_t j = 0; j < weights; ++j) {
    direction_[j] = mean_[j] / scale_[j];
    s += direction_[j] * direction_[j];
  }
  if (s > 0)
    for (double& v : direction_) v /= std::sqrt(s);
  const double root = std::sqrt(1 + s);
  beta_ = 1 - 1 / root;
  gamma_ = root - 1;
  mean_.clear();
}

namespace {

double dot(const double* a, const double* b, std::size_t size) {
  double s = 0;
  for (std::size_t j = 0; j < size; ++j) s += a[j] * b[j];
  return s;
}

}  // namespace

void Whitening::to_model(std::span<const double> u, std::span<double> x) const {
  const std::size_t d = static_cast<std::size_t>(layout_.features);
  if (form_ == Form::centred) {
    for (std::size_t b = 0; b < static_cast<std::size_t>(layout_.blocks); ++b) {
      const double* ub = u.data() + b * d;
      double* xb = x.data() + b * d;
      if (layout_.intercept) {  // x_w = D^{-1/2} u_w, x_b = u_b - m^T x_w
        for (std::size_t j = 0; j + 1 < d; ++j) xb[j] = ub[j] / scale_[j];
        xb[d - 1] = ub[d - 1] - dot(mean_.data(), xb, d - 1);
      } else {  // x = D^{-1/2} (u - beta v (v^T u))
        const double t = beta_ * dot(direction_.data(), ub, d);
        for (std::size_t j = 0; j < d; ++j) xb[j] = (ub[j] - t * direction_[j]) / scale_[j];
      }
    }
    return;
  }
  if (lower_.empty()) {
    for (std::size_t i = 0; i < u.size(); ++i) x[i] = u[i] / scale_[i % d];
    return;
  }
  if (layout_.blocks == 1 || !together_) {
    for (std::size_t b = 0; b < static_cast<std::size_t>(layout_.blocks); ++b) {
      const double* ub = u.data() + b * d;
      double* xb = x.data() + b * d;
      // L^T v = u, from the last coordinate up; then x = S^{-1} v.
      for (std::size_t j = d; j-- > 0;) {
        double s = ub[j];
        for (std::size_t i = j + 1; i < d; ++i) s -= lower_[i * d + j] * xb[i];
        xb[j] = s / lower_[j * d + j];
      }
      for (std::size_t j = 0; j < d; ++j) xb[j] /= scale_[j];
    }
    return;
  }
  // L^T V = U for all blocks at once: one triangular solve with many right-hand sides,
  // which Eigen blocks and vectorises (a softmax model's 100 blocks of 20 features took
  // most of a whitened step as 100 scalar solves; its default run went from 24.55 s to
  // 11.16 s). One block keeps the scalar loops above, which cost less at a few features
  // (ridge on abalone, 8 features: 0.20 s against 0.24 s). Then X = S^{-1} V.
  const auto blocks = static_cast<Eigen::Index>(layout_.blocks);
  const auto rows = static_cast<Eigen::Index>(d);
  Eigen::Map<Eigen::MatrixXd> X(x.data(), rows, blocks);
  X = Eigen::Map<const Eigen::MatrixXd>(u.data(), rows, blocks);
  lower_matrix().transpose().triangularView<Eigen::Upper>().solveInPlace(X);
  X.array().colwise() /= Eigen::Map<const Eigen::ArrayXd>(scale_.data(), rows);
}

void Whitening::gradient_to_whitened(std::span<const double> g, std::span<double> gu) const {
  const std::size_t d = static_cast<std::size_t>(layout_.features);
  if (form_ == Form::centred) {
    for (std::size_t b = 0; b < static_cast<std::size_t>(layout_.blocks); ++b) {
      const double* gb = g.data() + b * d;
      double* ob = gu.data() + b * d;
      if (layout_.intercept) {  // P^T g: (D^{-1/2} (g_w - m g_b), g_b)
        for (std::size_t j = 0; j + 1 < d; ++j) ob[j] = (gb[j] - mean_[j] * gb[d - 1]) / scale_[j];
        ob[d - 1] = gb[d - 1];
      } else {  // (I - beta v v^T) D^{-1/2} g
        for (std::size_t j = 0; j < d; ++j) ob[j] = gb[j] / scale_[j];
        const double t = beta_ * dot(direction_.data(), ob, d);
        for (std::size_t j = 0; j < d; ++j) ob[j] -= t * direction_[j];
      }
    }
    return;
  }
  if (lower_.empty()) {
    for (std::size_t i = 0; i < g.size(); ++i) gu[i] = g[i] / scale_[i % d];
    return;
  }
  if (layout_.blocks == 1 || !together_) {
    for (std::size_t b = 0; b < static_cast<std::size_t>(layout_.blocks); ++b) {
      const double* gb = g.data() + b * d;
      double* ob = gu.data() + b * d;
      // L y = S^{-1} g, from the first coordinate down.
      for (std::size_t i = 0; i < d; ++i) {
        double s = gb[i] / scale_[i];
        const double* row = lower_.data() + i * d;
        for (std::size_t j = 0; j < i; ++j) s -= row[j] * ob[j];
        ob[i] = s / row[i];
      }
    }
    return;
  }
  // L Y = S^{-1} G, all blocks at once (as in to_model).
  const auto blocks = static_cast<Eigen::Index>(layout_.blocks);
  const auto rows = static_cast<Eigen::Index>(d);
  Eigen::Map<Eigen::MatrixXd> Y(gu.data(), rows, blocks);
  Y = Eigen::Map<const Eigen::MatrixXd>(g.data(), rows, blocks);
  Y.array().colwise() /= Eigen::Map<const Eigen::ArrayXd>(scale_.data(), rows);
  lower_matrix().triangularView<Eigen::Lower>().solveInPlace(Y);
}

void Whitening::to_whitened(std::span<const double> x, std::span<double> u) const {
  const std::size_t d = static_cast<std::size_t>(layout_.features);
  if (form_ == Form::centred) {
    for (std::size_t b = 0; b < static_cast<std::size_t>(layout_.blocks); ++b) {
      const double* xb = x.data() + b * d;
      double* ub = u.data() + b * d;
      if (layout_.intercept) {  // u_w = D^{1/2} x_w, u_b = x_b + m^T x_w
        for (std::size_t j = 0; j + 1 < d; ++j) ub[j] = xb[j] * scale_[j];
        ub[d - 1] = xb[d - 1] + dot(mean_.data(), xb, d - 1);
      } else {  // (I + gamma v v^T) D^{1/2} x
        for (std::size_t j = 0; j < d; ++j) ub[j] = xb[j] * scale_[j];
        const double t = gamma_ * dot(direction_.data(), ub, d);
        for (std::size_t j = 0; j < d; ++j) ub[j] += t * direction_[j];
      }
    }
    return;
  }
  if (lower_.empty()) {
    for (std::size_t i = 0; i < x.size(); ++i) u[i] = x[i] * scale_[i % d];
    return;
  }
  // U = L^T S X
  const auto blocks = static_cast<Eigen::Index>(layout_.blocks);
  const auto rows = static_cast<Eigen::Index>(d);
  const Eigen::MatrixXd scaled =
      Eigen::Map<const Eigen::MatrixXd>(x.data(), rows, blocks).array().colwise() *
      Eigen::Map<const Eigen::ArrayXd>(scale_.data(), rows);
  Eigen::Map<Eigen::MatrixXd>(u.data(), rows, blocks).noalias() =
      lower_matrix().transpose().triangularView<Eigen::Upper>() * scaled;
}

Whitening::LowerMatrix Whitening::lower_matrix() const {
  const auto d = static_cast<Eigen::Index>(layout_.features);
  return LowerMatrix(lower_.data(), d, d);
}

std::vector<double> Whitening::to_model(std::span<const double> u) const {
  std::vector<double> x(u.size());
  to_model(u, x);
  return x;
}

std::vector<double> Whitening::to_whitened(std::span<const double> x) const {
  std::vector<double> u(x.size());
  to_whitened(x, u);
  return u;
}

std::string Whitening::describe() const {
  return std::string(form_ == Form::full      ? "whiten"
                     : form_ == Form::centred ? "centre-scale"
                                              : "scale") +
         "(features=" + std::to_string(layout_.features) +
         (layout_.blocks > 1 ? ",blocks=" + std::to_string(layout_.blocks) : "") + ")";
}

namespace {

class WhitenedObjective final : public Objective {
 public:
  WhitenedObjective(const Objective& inner, const Whitening& whitening)
      : inner_(inner), whitening_(whitening) {}

  std::int64_t dimension() const override { return inner_.dimension(); }
  Curvature curvature() const override {
    Curvature c;
    c.convex = inner_.curvature().convex;
    return c;
  }
  double strong_convexity() const override { return kUnknown; }

  void initial_point(std::uint64_t seed, std::span<double> u) const override {
    std::vector<double> x(u.size());
    inner_.initial_point(seed, x);
    whitening_.to_whitened(x, u);
  }

  double loss_and_gradient(const DataView& data, std::span<const std::int64_t> rows,
                           std::span<const double> u, std::span<double> gradient) const override {
    Buffers& b = buffers(u.size());
    whitening_.to_model(u, b.x);
    const double loss = inner_.loss_and_gradient(data, rows, b.x, b.g);
    whitening_.gradient_to_whitened(b.g, gradient);
    return loss;
  }

  double value(const DataView& data, std::span<const double> u) const override {
    Buffers& b = buffers(u.size());
    whitening_.to_model(u, b.x);
    return inner_.value(data, b.x);
  }

  Prediction prediction_kind() const override { return inner_.prediction_kind(); }
  double predict(const SparseRow& row, std::span<const double> u) const override {
    Buffers& b = buffers(u.size());
    whitening_.to_model(u, b.x);
    return inner_.predict(row, b.x);
  }
  ParamMap resolved_params() const override { return inner_.resolved_params(); }

 private:
  struct Buffers {
    std::vector<double> x, g;
  };
  // Per thread: every worker calls loss_and_gradient at every step.
  static Buffers& buffers(std::size_t size) {
    thread_local Buffers b;
    b.x.resize(size);
    b.g.resize(size);
    return b;
  }

  const Objective& inner_;
  const Whitening& whitening_;
};

}  // namespace

std::unique_ptr<Objective> whitened_objective(const Objective& objective,
                                              const Whitening& whitening) {
  return std::make_unique<WhitenedObjective>(objective, whitening);
}

}  // namespace localsgd::core
