// The default step size (`--lr auto`): the whitening change of variables against an
// independent computation, and default runs against f* on real and generated data,
// including features whose scales span 1e-3 to 1e4 and targets far from zero.
#include <array>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/engine/preconditioner.hpp"
#include "localsgd/core/run/default_step.hpp"
#include "objective_test_support.hpp"

namespace localsgd::testing {
namespace {

using nlohmann::json;

// n rows of d dense features, feature j of scale 10^(-3 + 7 j / (d - 1)) and offset
// (far from centred), as a LIBSVM text. `label(z)` maps a row's standardised score.
template <class Label>
std::string scaled_libsvm(int n, int d, std::uint32_t seed, Label label) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> offset(static_cast<std::size_t>(d)), weight(offset.size());
  for (int j = 0; j < d; ++j) offset[j] = 2.0 + normal(rng), weight[j] = normal(rng);
  std::ostringstream out;
  out.precision(17);
  for (int i = 0; i < n; ++i) {
    std::ostringstream row;
    row.precision(17);
    double z = 0;
    for (int j = 0; j < d; ++j) {
      const double standard = normal(rng);
      z += weight[j] * standard;
      const double scale = std::pow(10.0, -3.0 + 7.0 * j / (d - 1));
      row << ' ' << j + 1 << ':' << scale * (standard + offset[j]);
    }
    out << label(z / std::sqrt(static_cast<double>(d)), normal(rng)) << row.str() << '\n';
  }
  return out.str();
}

Dataset dense_dataset(const std::string& text) {
  TempDir dir;
  return core::load_dataset(dir.write("d.svm", text).string(), "libsvm", {});
}

// G = E[a a^T] + lambda I (no lambda on the intercept), computed directly.
Eigen::MatrixXd second_moments(const Dataset& data, bool intercept, double lambda) {
  const DataView v = data.view();
  const std::int64_t d = v.cols + (intercept ? 1 : 0);
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(d, d);
  for (std::int64_t i = 0; i < v.rows(); ++i) {
    Eigen::VectorXd a = Eigen::VectorXd::Zero(d);
    const SparseRow r = v.row(i);
    for (std::int64_t k = 0; k < r.size; ++k) a[r.index[k]] = r.value[k];
    if (intercept) a[d - 1] = 1;
    G += a * a.transpose();
  }
  G /= static_cast<double>(v.rows());
  for (std::int64_t j = 0; j < v.cols; ++j) G(j, j) += lambda;
  return G;
}

TEST(Whitening, IsAnExactChangeOfVariablesWithPPTransposeTheInverseSecondMoments) {
  const Dataset data =
      dense_dataset(scaled_libsvm(300, 6, 7, [](double z, double) { return z > 0 ? 1 : -1; }));
  for (const bool intercept : {false, true}) {
    SCOPED_TRACE(intercept ? "with intercept" : "without");
    const double lambda = 0.01;
    const core::Whitening::Layout layout{data.cols + (intercept ? 1 : 0), 1, intercept};
    const core::Whitening w(data.view(), layout, lambda);
    const Eigen::MatrixXd G = second_moments(data, intercept, lambda);
    const auto d = static_cast<std::size_t>(layout.features);
    // P P^T G = I, column by column: P (P^T (G e_j)) = e_j, up to the relative floor of
    // 1e-10 on diag(G) (the errors are compared in the scale of each coordinate, which
    // spans 7 orders of magnitude here: the identity would be off by O(1) for a bug).
    const auto at = [&](std::size_t i, std::size_t j) {
      return G(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
    };
    for (std::size_t j = 0; j < d; ++j) {
      std::vector<double> g(d), gu(d), back(d);
      for (std::size_t i = 0; i < d; ++i) g[i] = at(i, j);
      w.gradient_to_whitened(g, gu);
      w.to_model(gu, back);
      for (std::size_t i = 0; i < d; ++i)
        EXPECT_NEAR(back[i] * std::sqrt(at(i, i) / at(j, j)), i == j ? 1.0 : 0.0, 1e-7)
            << i << "," << j;
    }
    // to_whitened inverts to_model.
    std::vector<double> x(d);
    for (std::size_t i = 0; i < d; ++i)
      x[i] = std::pow(10.0, 3.0 - static_cast<double>(i)) * (i % 2 ? -1 : 1);
    const std::vector<double> round_trip = w.to_model(w.to_whitened(x));
    for (std::size_t i = 0; i < d; ++i) EXPECT_NEAR(round_trip[i], x[i], 1e-9 * std::abs(x[i]));
    // Several blocks (solved together) transform each block as one block alone does.
    const core::Whitening three(data.view(), {layout.features, 3, intercept}, lambda);
    std::vector<double> u3(3 * d), g3(3 * d);
    for (std::size_t i = 0; i < u3.size(); ++i)
      u3[i] = std::sin(1.0 + static_cast<double>(i)), g3[i] = std::cos(static_cast<double>(i));
    const std::vector<double> x3 = three.to_model(u3), back3 = three.to_whitened(x3);
    std::vector<double> gu3(3 * d);
    three.gradient_to_whitened(g3, gu3);
    for (std::size_t b = 0; b < 3; ++b) {
      const auto block = [&](const std::vector<double>& v) {
        return std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(b * d),
                                   v.begin() + static_cast<std::ptrdiff_t>((b + 1) * d));
      };
      std::vector<double> gu(d);
      w.gradient_to_whitened(block(g3), gu);
      const std::vector<double> x1 = w.to_model(block(u3)), x1b = block(x3), gub = block(gu3),
                                back = block(back3), u1 = block(u3);
      for (std::size_t i = 0; i < d; ++i) {
        EXPECT_NEAR(x1b[i], x1[i], 1e-12 * std::abs(x1[i])) << b << "," << i;
        EXPECT_NEAR(gub[i], gu[i], 1e-12 * std::abs(gu[i])) << b << "," << i;
        EXPECT_NEAR(back[i], u1[i], 1e-9) << b << "," << i;
      }
    }
  }
}

// The centred form whitens G with the features' covariances dropped: the means m (the
// intercept's constant 1 among them) and the variances (+ lambda) D are kept, so
// P P^T = (D + m m^T)^{-1}, with an intercept's block exactly [[D + m m^T, m], [m^T, 1]].
TEST(Whitening, TheCentredFormWhitensMeansAndVariances) {
  const Dataset data =
      dense_dataset(scaled_libsvm(300, 6, 9, [](double z, double) { return z > 0 ? 1 : -1; }));
  const DataView v = data.view();
  for (const bool intercept : {false, true}) {
    SCOPED_TRACE(intercept ? "with intercept" : "without");
    const double lambda = 0.01;
    const core::Whitening::Layout layout{v.cols + (intercept ? 1 : 0), 1, intercept};
    const core::Whitening w(v, layout, lambda, 20000, core::Whitening::Form::centred);
    EXPECT_EQ(w.describe(), "centre-scale(features=" + std::to_string(layout.features) + ")");
    const auto d = static_cast<Eigen::Index>(layout.features);
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(d), variance = Eigen::VectorXd::Zero(d);
    for (std::int64_t i = 0; i < v.rows(); ++i)
      for (std::int64_t k = 0; k < v.row(i).size; ++k) mean[v.row(i).index[k]] += v.row(i).value[k];
    mean /= static_cast<double>(v.rows());
    for (std::int64_t i = 0; i < v.rows(); ++i)  // the rows are dense
      for (std::int64_t k = 0; k < v.row(i).size; ++k)
        variance[v.row(i).index[k]] += std::pow(v.row(i).value[k] - mean[v.row(i).index[k]], 2);
    variance /= static_cast<double>(v.rows());
    for (Eigen::Index j = 0; j < v.cols; ++j) variance[j] += lambda;
    if (intercept) mean[d - 1] = 1;  // and its variance 0
    const Eigen::MatrixXd G = Eigen::MatrixXd(variance.asDiagonal()) + mean * mean.transpose();
    for (Eigen::Index j = 0; j < d; ++j) {
      std::vector<double> g(static_cast<std::size_t>(d)), gu(g.size()), back(g.size());
      for (Eigen::Index i = 0; i < d; ++i) g[static_cast<std::size_t>(i)] = G(i, j);
      w.gradient_to_whitened(g, gu);
      w.to_model(gu, back);
      for (Eigen::Index i = 0; i < d; ++i)
        EXPECT_NEAR(back[static_cast<std::size_t>(i)] * std::sqrt(G(i, i) / G(j, j)),
                    i == j ? 1.0 : 0.0, 1e-9)
            << i << "," << j;
    }
    std::vector<double> x(static_cast<std::size_t>(d));
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = std::pow(10.0, 3.0 - static_cast<double>(i)) * (i % 2 ? -1 : 1);
    const std::vector<double> round_trip = w.to_model(w.to_whitened(x));
    for (std::size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(round_trip[i], x[i], 1e-9 * std::abs(x[i]));
    // gradient_to_whitened is to_model's transpose: <P u, g> = <u, P^T g>.
    std::vector<double> u(x.size()), g(x.size()), gu(x.size());
    for (std::size_t i = 0; i < u.size(); ++i)
      u[i] = std::sin(1.0 + static_cast<double>(i)), g[i] = std::cos(2.0 * static_cast<double>(i));
    const std::vector<double> pu = w.to_model(u);
    w.gradient_to_whitened(g, gu);
    double left = 0, right = 0, scale = 0;
    for (std::size_t i = 0; i < u.size(); ++i)
      left += pu[i] * g[i], right += u[i] * gu[i], scale += std::abs(pu[i] * g[i]);
    EXPECT_NEAR(left, right, 1e-12 * scale);
  }
}

TEST(Whitening, TheWhitenedObjectiveIsFOfPuWithGradientPTransposeGradF) {
  const Dataset data = dense_dataset(
      scaled_libsvm(200, 5, 3, [](double z, double) { return z > 0 ? 2 : (z > -0.5 ? 1 : 0); }));
  const auto objective = load_objective("softmax", data);
  const auto layout = core::Whitening::layout_of(*objective, data.view());
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->blocks, 3);  // one copy of the features per class
  const core::Whitening w(data.view(), *layout, 1.0 / 200);
  const auto whitened = core::whitened_objective(*objective, w);
  std::vector<double> u(static_cast<std::size_t>(objective->dimension()));
  for (std::size_t j = 0; j < u.size(); ++j) u[j] = 0.1 * std::sin(static_cast<double>(j));
  const std::vector<double> x = w.to_model(u);
  const std::vector<double> round_trip = w.to_whitened(x);  // every block's
  for (std::size_t j = 0; j < u.size(); ++j) EXPECT_NEAR(round_trip[j], u[j], 1e-12) << j;
  EXPECT_DOUBLE_EQ(whitened->value(data.view(), u), objective->value(data.view(), x));
  std::vector<std::int64_t> rows = {0, 5, 17, 42};
  std::vector<double> gu(u.size()), gx(u.size()), expected(u.size());
  whitened->loss_and_gradient(data.view(), rows, u, gu);
  objective->loss_and_gradient(data.view(), rows, x, gx);
  w.gradient_to_whitened(gx, expected);
  for (std::size_t j = 0; j < u.size(); ++j) EXPECT_DOUBLE_EQ(gu[j], expected[j]);
  EXPECT_LT(gradient_check(*whitened, data.view(), rows, u), 1e-6);
}

TEST(Whitening, IsOfferedOnlyToConvexModelsMadeOfFeatureBlocks) {
  const Dataset data =
      dense_dataset(scaled_libsvm(50, 4, 1, [](double z, double) { return z > 0 ? 1 : 0; }));
  EXPECT_TRUE(core::Whitening::layout_of(*load_objective("logreg", data), data.view()));
  const auto with_bias = core::Whitening::layout_of(
      *load_objective("logreg", data, make_params({{"bias", "true"}})), data.view());
  ASSERT_TRUE(with_bias);
  EXPECT_EQ(with_bias->features, 5);
  EXPECT_TRUE(with_bias->intercept);
  EXPECT_FALSE(core::Whitening::layout_of(*load_objective("mlp", data), data.view()));
}

// --- Default runs against f* -------------------------------------------------------------

struct Outcome {
  double rel = NAN;
  json summary;
};

// `localsgd train` with no step-size or budget options, and f* from `localsgd solve`.
Outcome default_run(const std::string& plugin, const std::string& file,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> solve = {"solve", "--plugin", plugin, "--data",
                                    file,    "--format", "json"};
  std::vector<std::string> train = {"train", "--plugin", plugin, "--data",
                                    file,    "--format", "json"};
  solve.insert(solve.end(), extra.begin(), extra.end());
  train.insert(train.end(), extra.begin(), extra.end());
  const CliResult s = run_cli(solve), t = run_cli(train);
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(t.exit_code, 0) << t.err;
  Outcome o;
  if (s.exit_code != 0 || t.exit_code != 0) return o;
  const double fstar = json::parse(s.out)["fstar"].get<double>();
  o.summary = json::parse(last_line(t.out));
  o.rel = (o.summary["objective"].get<double>() - fstar) / std::abs(fstar);
  return o;
}

struct RealCase {
  const char* plugin;
  const char* file;
};

class DefaultsOnSharedData : public ::testing::TestWithParam<RealCase> {};

TEST_P(DefaultsOnSharedData, ReachOnePercentOfFstar) {
  const fs::path file = data_file(GetParam().file);
  LOCALSGD_REQUIRE_DATA_FILE(file);
  const Outcome o = default_run(GetParam().plugin, file.string());
  EXPECT_LE(o.rel, 1e-2) << o.summary.dump();
  EXPECT_GE(o.rel, -1e-9);
  EXPECT_TRUE(o.summary["lr"].get<std::string>().starts_with("auto:constant(eta="));
}

INSTANTIATE_TEST_SUITE_P(Defaults, DefaultsOnSharedData,
                         ::testing::Values(RealCase{"logreg", "w8a"}, RealCase{"logreg", "a9a"},
                                           RealCase{"logreg", "ijcnn1.xz"}, RealCase{"svm", "w8a"},
                                           RealCase{"softmax", "dna.scale"},
                                           RealCase{"ridge", "abalone_scale"},
                                           RealCase{"huber", "abalone_scale"}),
                         [](const auto& info) {
                           std::string name =
                               std::string(info.param.plugin) + "_" + info.param.file;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(DefaultsOnRawFeatures, BinaryLogisticWithScalesFromMilliTo10k) {
  TempDir dir;
  const auto file = dir.write("raw.svm", scaled_libsvm(1500, 12, 11, [](double z, double e) {
                                return z + 0.3 * e > 0.2 ? 1 : -1;
                              }));
  const Outcome o = default_run("logreg", file.string());
  EXPECT_LE(o.rel, 1e-2) << o.summary.dump();
  // Plain SGD cannot take these scales; the default whitens them.
  EXPECT_EQ(o.summary["preconditioner"], "whiten(features=12)");
}

TEST(DefaultsOnRawFeatures, WideDenseDataGetsTheCentredScaling) {
  TempDir dir;  // 200 dense features: the full whitening would cost 200^2 a step
  const auto file = dir.write("wide.svm", scaled_libsvm(1500, 200, 4, [](double z, double e) {
                                return z + 0.3 * e > 0.1 ? 1 : -1;
                              }));
  const Outcome o = default_run("logreg", file.string());
  EXPECT_LE(o.rel, 1e-2) << o.summary.dump();
  EXPECT_EQ(o.summary["preconditioner"], "centre-scale(features=200)");
}

// Features of one scale, all far from centred (mean 3, variance 1), and too many (520) for
// the full whitening: scaling the diagonal alone changes nothing, and G's largest
// eigenvalue is 1 + 9 * 520 times its others. Scaled, the run ended at a relative
// suboptimality of 0.052 (0.056 with an intercept) without a word (0.41 on 3000 x 600
// such rows); centring takes it below 1e-3.
// `rows` dense rows of `features` N(0, 1) values plus offset(column), printed to `digits`
// significant digits, labelled +1/-1 by a random linear model of the N(0, 1) parts plus
// noise.
template <class Offset>
std::string offset_features(int rows, int features, int digits, Offset offset) {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> normal;
  std::vector<double> weight(static_cast<std::size_t>(features));
  for (double& w : weight) w = normal(rng);
  std::ostringstream text;
  for (int i = 0; i < rows; ++i) {
    std::ostringstream row;
    row.precision(digits);
    double z = 0;
    for (int j = 0; j < features; ++j) {
      const double standard = normal(rng);
      z += weight[static_cast<std::size_t>(j)] * standard;
      row << ' ' << j + 1 << ':' << standard + offset(j);
    }
    text << (z / std::sqrt(double(features)) + 0.5 * normal(rng) > 0 ? 1 : -1) << row.str() << '\n';
  }
  return text.str();
}

TEST(DefaultsOnRawFeatures, WideUncentredFeaturesOfOneScaleAreCentred) {
  constexpr int kFeatures = 520;
  TempDir dir;
  const auto file =
      dir.write("uncentred.svm", offset_features(1500, kFeatures, 6, [](int) { return 3.0; }));
  for (const char* bias : {"false", "true"}) {
    SCOPED_TRACE(bias);
    const Outcome o =
        default_run("logreg", file.string(), {"--param", std::string("bias=") + bias});
    EXPECT_LE(o.rel, 1e-3) << o.summary.dump();
    EXPECT_EQ(o.summary["preconditioner"],
              "centre-scale(features=" + std::to_string(kFeatures + (bias[0] == 't')) + ")");
  }
}

// Means of 1e6 over a spread of 1: centring through the intercept makes the problem the
// centred data's, whose f* it has exactly, so the run must end within 1e-3 of that f*.
// A floor of 1e-10 of the second moment on the variances (10 times the spread in scale)
// ended it at 0.22 (and an adversarial helper's 2000 x 600 set at 3.8).
TEST(DefaultsOnRawFeatures, MeansFarAboveTheirSpreadAreCentredExactly) {
  constexpr int kFeatures = 520;
  TempDir dir;
  const auto centred =
      dir.write("centred.svm", offset_features(1000, kFeatures, 17, [](int) { return 0.0; }));
  const auto shifted =
      dir.write("shifted.svm",
                offset_features(1000, kFeatures, 17, [](int j) { return j < 50 ? 1e6 : 0.0; }));
  const CliResult s = run_cli({"solve", "--plugin", "logreg", "--param", "bias=true", "--data",
                               centred.string(), "--format", "json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const double fstar = json::parse(s.out)["fstar"].get<double>();
  const CliResult t = run_cli({"train", "--plugin", "logreg", "--param", "bias=true", "--data",
                               shifted.string(), "--format", "json"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json summary = json::parse(last_line(t.out));
  EXPECT_EQ(summary["preconditioner"], "centre-scale(features=521)");
  EXPECT_LE((summary["objective"].get<double>() - fstar) / fstar, 1e-3) << summary.dump();
}

TEST(DefaultsOnRawFeatures, RidgeWithTargetsFarFromZero) {
  TempDir dir;
  const auto file = dir.write("raw.svm", scaled_libsvm(1000, 8, 5, [](double z, double e) {
                                return 150.0 + 40.0 * z + 5.0 * e;
                              }));
  for (const char* bias : {"false", "true"}) {
    SCOPED_TRACE(bias);
    const Outcome o = default_run("ridge", file.string(), {"--param", std::string("bias=") + bias});
    EXPECT_LE(o.rel, 1e-2) << o.summary.dump();
  }
}

// A Huber loss moves the intercept at most eta a step, so targets offset by 1e5 (abalone's
// rings + 100000) left the default run at relative suboptimality 0.09 (29 on a data set
// with noise 1); train now starts the intercept at its best value for x_0's weights, and the
// offset run ends where the unshifted one does.
TEST(DefaultsOnRawFeatures, HuberWithTargetsFarFromZeroStartsItsInterceptThere) {
  const fs::path abalone = data_file("abalone_scale");
  LOCALSGD_REQUIRE_DATA_FILE(abalone);
  std::ifstream in(abalone);
  std::string text, line;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    text += std::to_string(std::stoi(line.substr(0, space)) + 100000) + line.substr(space) + "\n";
  }
  TempDir dir;
  const auto shifted = dir.write("shifted.svm", text);
  const Outcome far = default_run("huber", shifted.string(), {"--param", "bias=true"});
  const Outcome near = default_run("huber", abalone.string(), {"--param", "bias=true"});
  EXPECT_LE(far.rel, 1e-6) << far.summary.dump();
  EXPECT_GE(far.rel, -1e-9);
  EXPECT_NEAR(far.rel, near.rel, 1e-8);
}

TEST(DefaultsOnRawFeatures, SoftmaxWithTenClasses) {
  TempDir dir;
  const auto file = dir.write("raw.svm", scaled_libsvm(2000, 10, 9, [](double z, double e) {
                                return std::clamp(std::floor((z + 0.2 * e) * 3.0 + 5.0), 0.0, 9.0);
                              }));
  const Outcome o = default_run("softmax", file.string());
  EXPECT_LE(o.rel, 1e-2) << o.summary.dump();
}

// Images like scikit-learn's digits with raw pixel values 0..16: ten classes, each a
// pattern of 64 pixels plus noise, rounded and clipped. Whitening wins the probes per
// sample, but a whitened step costs about twenty plain ones: at equal work plain steps win,
// and the run takes the samples the whitened run's work would buy, up to 10^7 (raw digits
// themselves ended at 0.097 whitened, 0.00076 so: README "Defaults").
TEST(DefaultsOnRawFeatures, PixelsGetPlainStepsAtTheWorkOfWhitenedOnes) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> pixel(0, 16), digit(0, 9);
  std::vector<std::array<double, 64>> pattern(10);
  for (auto& p : pattern)
    for (double& v : p) v = std::bernoulli_distribution(0.6)(rng) ? pixel(rng) : 0;
  std::ostringstream text;
  for (int i = 0; i < 1800; ++i) {
    const int label = digit(rng);
    text << label;
    for (int j = 0; j < 64; ++j) {
      const double v = std::clamp(std::round(pattern[label][j] + 10 * normal(rng)), 0.0, 16.0);
      if (v != 0) text << ' ' << j + 1 << ':' << v;
    }
    text << '\n';
  }
  TempDir dir;
  const Outcome o = default_run("softmax", dir.write("pixels.svm", text.str()).string());
  EXPECT_LE(o.rel, 1e-2) << o.summary.dump();
  EXPECT_EQ(o.summary["preconditioner"], "none");
  EXPECT_NE(o.summary["lr"].get<std::string>().find(",plain-at-equal-work=10x)"), std::string::npos)
      << o.summary["lr"];
  // 3 x 10^6 of the default budget, stretched up to 10^7 (the largest default budget)
  EXPECT_EQ(o.summary["grad_evals"].get<std::int64_t>(), 10'000'000);
}

TEST(DefaultStep, IsTheSameForAnyThreadCountAndSaysWhatItChose) {
  TempDir dir;
  const auto file = dir.write(
      "raw.svm", scaled_libsvm(400, 6, 2, [](double z, double) { return z > 0 ? 1 : -1; }));
  const std::vector<std::string> base = {"train",       "--plugin", "logreg", "--data",
                                         file.string(), "--format", "json"};
  auto one = base, two = base;
  one.insert(one.end(), {"--threads", "1"});
  two.insert(two.end(), {"--threads", "2"});
  const CliResult a = run_cli(one), b = run_cli(two);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const json ja = json::parse(last_line(a.out)), jb = json::parse(last_line(b.out));
  for (const char* key : {"objective", "objective_last", "lr", "preconditioner", "steps"})
    EXPECT_EQ(ja[key], jb[key]) << key;
  // 400 rows: the budget is 3 x 10^6 gradients, not 10 passes.
  EXPECT_EQ(ja["grad_evals"].get<std::int64_t>(), 3'000'000);
}

// A probe tunes η for its own horizon and never runs longer than the run it is for:
// `--steps 1` on one row of 842,592 features (LibsvmCli.TrainsOnATenMegabyteLine) spent
// 55 s in 16 probes of 256 steps before a run of one step.
TEST(DefaultStep, ProbesNeverRunLongerThanTheRun) {
  const Dataset data = random_binary_dataset(50, 40, 0.5, 3);
  const auto objective = load_objective("logreg", data);
  const std::vector<double> start(static_cast<std::size_t>(objective->dimension()), 0.0);
  const std::int64_t batch = 4;
  const auto probe_steps = [&](core::RunSize run) {
    const core::DefaultStep choice =
        core::choose_default_step(*objective, data.view(), data.nnz(), batch, 1, start, run);
    const std::string name = choice.step_size->describe();
    const auto at = name.find("probes=");
    EXPECT_NE(at, std::string::npos) << name;
    const int probes = std::stoi(name.substr(at + 7));
    EXPECT_EQ(choice.probe_samples % (probes * batch), 0) << name;
    return choice.probe_samples / (probes * batch);
  };
  EXPECT_EQ(probe_steps({1, 4 * batch}), 1);
  EXPECT_EQ(probe_steps({100, 100 * 4 * batch}), 100);
  EXPECT_EQ(probe_steps({1'000'000, 1'000'000 * 4 * batch}), 256 * 16);  // the usual cap
}

TEST(DefaultStep, RowsWithoutFeaturesTrainWithAFiniteStep) {
  TempDir dir;
  const auto file = dir.write("labels_only.svm", "1\n-1\n1\n");
  const CliResult r = run_cli({"train", "--plugin", "logreg", "--data", file.string(), "--format",
                               "json", "--param", "bias=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json s = json::parse(last_line(r.out));
  EXPECT_NEAR(s["objective"].get<double>(), -(2.0 / 3) * std::log(2.0 / 3) - std::log(1.0 / 3) / 3,
              1e-3);  // the intercept fits P(y = 1) = 2/3
}

TEST(DefaultStep, StepSizeParametersWithoutARuleKeepMeaningInvtime) {
  const CliResult r = run_cli({"train", "--plugin", "logreg", "--reader-param", "n=300",
                               "--lr-param", "eta0=0.5", "--epochs", "1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json s = json::parse(last_line(r.out));
  EXPECT_TRUE(s["lr"].get<std::string>().starts_with("invtime(eta0=0.5,")) << s["lr"];
  EXPECT_EQ(s["preconditioner"], "none");
  // ...and a refusal says so.
  const CliResult wrong = run_cli(
      {"train", "--plugin", "logreg", "--reader-param", "n=300", "--lr-param", "eta=0.5", "-q"});
  EXPECT_EQ(wrong.exit_code, kExitUsage);
  EXPECT_NE(wrong.err.find("--lr-param without --lr sets invtime's parameters"), std::string::npos)
      << wrong.err;
  // --lr auto named explicitly takes no parameters: refused, naming what would work
  // (it used to become invtime silently).
  const CliResult named = run_cli({"train", "--plugin", "logreg", "--reader-param", "n=300", "--lr",
                                   "auto", "--lr-param", "warmup=5", "-q"});
  EXPECT_EQ(named.exit_code, kExitUsage);
  EXPECT_NE(named.err.find("--lr auto takes no --lr-param"), std::string::npos) << named.err;
  EXPECT_NE(named.err.find("--lr constant --lr-param eta="), std::string::npos) << named.err;
}

}  // namespace
}  // namespace localsgd::testing
