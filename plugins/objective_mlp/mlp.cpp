// A small non-convex model: one hidden layer, softmax output over C classes.
//   h(a) = act(W1 a + b1),  logits = W2 h(a) + b2,
//   f(x) = (1/n) sum_i [logsumexp(logits_i) - logit_{i,y_i}] + (lambda/2)|x|^2.
// x = [W1 (hidden x cols), b1 (hidden), W2 (C x hidden), b2 (C)]. W1 is stored column by
// column, x[j*hidden + h], so a sparse row touches one contiguous block of hidden weights
// per stored feature; W2 is row-major, x[offset + c*hidden + h].
//
// Non-convex, with no useful global smoothness bound: curvature() reports only
// convex = false, so the `paper` and `invtime` step sizes refuse it; use
// `--lr constant --lr-param eta=...`. Its zero point is a saddle (every hidden unit gets
// the same gradient), hence a seeded random initial_point.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::DataView;
using localsgd::SparseRow;

enum class Activation { tanh, relu };

Activation parse_activation(const localsgd::ParamMap& params) {
  const std::string name = params.text("activation", "tanh");
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  throw localsgd::ParamError("parameter activation=" + name + ": expected tanh or relu");
}

// Uniform in [-r, r) from 53 random bits: std::uniform_real_distribution differs between
// standard libraries, and the initial point must not.
double uniform(std::mt19937_64& bits, double r) {
  const double unit = static_cast<double>(bits() >> 11) * 0x1.0p-53;
  return (2.0 * unit - 1.0) * r;
}

class Mlp final : public localsgd::Objective {
 public:
  explicit Mlp(const localsgd::ObjectiveArgs& args)
      : cols_(std::max<std::int64_t>(1, args.cols)),
        hidden_(static_cast<std::size_t>(args.params.positive_integer("hidden", 32))),
        activation_(parse_activation(args.params)),
        // A fixed, small weight decay rather than 1/n: it keeps f coercive (a minimiser
        // exists, the weights cannot drift off to infinity on separable data) while barely
        // biasing the fit; the usual neural-net default, independent of the data size.
        lambda_(args.params.nonnegative_number("lambda", 1e-4)),
        classes_(localsgd::ClassLabels::resolve(args.params, args.data, "mlp")),
        b1_(hidden_ * static_cast<std::size_t>(cols_)),
        w2_(b1_ + hidden_),
        b2_(w2_ + classes_.size() * hidden_),
        dimension_(b2_ + classes_.size()) {
    if (args.data.cols > cols_)
      throw localsgd::DataError("", 0, 0,
                                "mlp: the data has " + std::to_string(args.data.cols) +
                                    " columns, the model " + std::to_string(cols_));
  }

  std::int64_t dimension() const override { return static_cast<std::int64_t>(dimension_); }

  localsgd::Curvature curvature() const override { return {}; }  // unknown, non-convex

  // Glorot/Xavier-uniform for tanh (keeps activation variance across layers), He-uniform
  // for relu (compensates for half the units being off); biases 0.
  void initial_point(std::uint64_t seed, std::span<double> x) const override {
    std::mt19937_64 bits(seed);
    const auto fan_in1 = static_cast<double>(cols_), fan_out1 = static_cast<double>(hidden_);
    const auto fan_in2 = static_cast<double>(hidden_);
    const auto fan_out2 = static_cast<double>(classes_.size());
    const bool relu = activation_ == Activation::relu;
    const double r1 = std::sqrt(6.0 / (relu ? fan_in1 : fan_in1 + fan_out1));
    const double r2 = std::sqrt(6.0 / (relu ? fan_in2 : fan_in2 + fan_out2));
    std::fill(x.begin(), x.end(), 0.0);
    for (std::size_t k = 0; k < b1_; ++k) x[k] = uniform(bits, r1);
    for (std::size_t k = w2_; k < b2_; ++k) x[k] = uniform(bits, r2);
  }

  double loss_and_gradient(const DataView& data, std::span<const std::int64_t> rows,
                           std::span<const double> x, std::span<double> gradient) const override {
    for (std::size_t k = 0; k < gradient.size(); ++k) gradient[k] = lambda_ * x[k];
    const Scratch s = scratch();
    const double inv_b = 1.0 / static_cast<double>(rows.size());
    const std::size_t C = classes_.size(), H = hidden_;
    double loss = 0.0;
    for (std::int64_t i : rows) {
      const SparseRow row = data.row(i);
      const std::size_t y = classes_.index_of_row(data, i, "mlp");
      forward(row, x, s);
      loss += localsgd::cross_entropy_in_place(s.p, y);
      // Output layer: d loss / d logit_c = p_c - [c = y].
      s.p[y] -= 1.0;
      std::fill(s.delta.begin(), s.delta.end(), 0.0);
      for (std::size_t c = 0; c < C; ++c) {
        const double d2 = inv_b * s.p[c];
        const double* w2 = x.data() + w2_ + c * H;
        double* g2 = gradient.data() + w2_ + c * H;
        for (std::size_t h = 0; h < H; ++h) {
          g2[h] += d2 * s.act[h];
          s.delta[h] += d2 * w2[h];
        }
        gradient[b2_ + c] += d2;
      }
      // Hidden layer: through the activation, then onto the row's stored features.
      for (std::size_t h = 0; h < H; ++h) {
        s.delta[h] *= derivative(s.z[h], s.act[h]);
        gradient[b1_ + h] += s.delta[h];
      }
      for (std::int64_t e = 0; e < row.size; ++e) {
        double* g1 = gradient.data() + static_cast<std::size_t>(row.index[e]) * H;
        const double a = row.value[e];
        for (std::size_t h = 0; h < H; ++h) g1[h] += a * s.delta[h];
      }
    }
    return loss * inv_b + 0.5 * lambda_ * localsgd::squared_norm(x);
  }

  double value(const DataView& data, std::span<const double> x) const override {
    const Scratch s = scratch();
    double loss = 0.0;
    for (std::int64_t i = 0; i < data.rows(); ++i) {
      const std::size_t y = classes_.index_of_row(data, i, "mlp");
      forward(data.row(i), x, s);
      loss += localsgd::cross_entropy_in_place(s.p, y);
    }
    return loss / static_cast<double>(std::max<std::int64_t>(1, data.rows())) +
           0.5 * lambda_ * localsgd::squared_norm(x);
  }

  Prediction prediction_kind() const override { return Prediction::label; }

  double predict(const SparseRow& row, std::span<const double> x) const override {
    const Scratch s = scratch();
    forward(row, x, s);
    return classes_.label(
        static_cast<std::size_t>(std::max_element(s.p.begin(), s.p.end()) - s.p.begin()));
  }

  localsgd::ParamMap resolved_params() const override {
    localsgd::ParamMap p;
    p.set("lambda", localsgd::format_number(lambda_));
    p.set("hidden", std::to_string(hidden_));
    p.set("activation", activation_ == Activation::tanh ? "tanh" : "relu");
    p.set("classes", classes_.to_string());
    return p;
  }

 private:
  // Per-row work space: pre-activations z, activations act, back-propagated delta
  // (hidden each) and logits/probabilities p (C).
  struct Scratch {
    std::span<double> z, act, delta, p;
  };

  // One buffer per thread: every worker calls loss_and_gradient at every step, so the
  // hot path must not allocate.
  Scratch scratch() const {
    thread_local std::vector<double> buffer;
    const std::size_t H = hidden_;
    buffer.resize(3 * H + classes_.size());
    const std::span<double> all(buffer);
    return {all.subspan(0, H), all.subspan(H, H), all.subspan(2 * H, H), all.subspan(3 * H)};
  }

  // Leaves z, act and the logits (in p) of `row`.
  void forward(const SparseRow& row, std::span<const double> x, const Scratch& s) const {
    const std::size_t H = hidden_;
    std::copy_n(x.data() + b1_, H, s.z.data());
    for (std::int64_t e = 0; e < row.size; ++e) {
      const double* w1 = x.data() + static_cast<std::size_t>(row.index[e]) * H;
      const double a = row.value[e];
      for (std::size_t h = 0; h < H; ++h) s.z[h] += a * w1[h];
    }
    for (std::size_t h = 0; h < H; ++h)
      s.act[h] = activation_ == Activation::tanh ? std::tanh(s.z[h]) : std::max(0.0, s.z[h]);
    for (std::size_t c = 0; c < s.p.size(); ++c) {
      const double* w2 = x.data() + w2_ + c * H;
      double logit = x[b2_ + c];
      for (std::size_t h = 0; h < H; ++h) logit += w2[h] * s.act[h];
      s.p[c] = logit;
    }
  }

  // act'(z), from z or from act = act(z), whichever is cheaper. relu'(0) = 0.
  double derivative(double z, double act) const {
    return activation_ == Activation::tanh ? 1.0 - act * act : (z > 0.0 ? 1.0 : 0.0);
  }

  const std::int64_t cols_;
  const std::size_t hidden_;
  const Activation activation_;
  const double lambda_;
  const localsgd::ClassLabels classes_;
  const std::size_t b1_, w2_, b2_, dimension_;  // offsets of b1, W2, b2; the total size
};

constexpr localsgd::ParamDoc kParams[] = {
    {"hidden", "32", "width of the hidden layer"},
    {"activation", "tanh", "hidden activation: tanh or relu"},
    {"lambda", "1e-4", "L2 regularisation of all parameters (>= 0)"},
    localsgd::kClassesDoc,
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<Mlp>(
    "mlp", "1.0.0", "one-hidden-layer neural net with softmax output (non-convex)", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
