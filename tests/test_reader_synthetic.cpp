// Tests of the synthetic reader plugin (the default data set when there is no --data):
// determinism, shape, value scale, label model and parameter validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "test_support.hpp"

namespace {

using localsgd::Dataset;

Dataset generate(const std::map<std::string, std::string>& params = {},
                 const std::string& path = "") {
  const auto& manifest = localsgd::core::load_plugin("synthetic", localsgd::PluginKind::reader);
  return localsgd::core::make_reader(manifest, localsgd::ParamMap(params))->read({path});
}

bool same_data(const Dataset& a, const Dataset& b) {
  return a.row_ptr == b.row_ptr && a.index == b.index && a.value == b.value && a.label == b.label &&
         a.cols == b.cols;
}

// Every row holds exactly `k` strictly ascending columns inside [0, cols).
void expect_rows_of(const Dataset& d, std::int64_t k) {
  ASSERT_EQ(static_cast<std::int64_t>(d.row_ptr.size()), d.rows() + 1);
  ASSERT_EQ(d.nnz(), d.rows() * k);
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    const auto row = d.view().row(i);
    ASSERT_EQ(row.size, k) << "row " << i;
    for (std::int64_t j = 0; j < row.size; ++j) {
      ASSERT_GE(row.index[j], 0) << "row " << i;
      ASSERT_LT(row.index[j], d.cols) << "row " << i;
      if (j > 0) {
        ASSERT_LT(row.index[j - 1], row.index[j]) << "row " << i;
      }
    }
  }
}

double positive_fraction(const Dataset& d) {
  double positives = 0;
  for (const double y : d.label) positives += y > 0;
  return positives / static_cast<double>(d.rows());
}

TEST(SyntheticReader, DefaultShapeLabelsAndScale) {
  const Dataset d = generate();
  EXPECT_EQ(d.rows(), 10'000);
  EXPECT_EQ(d.cols, 100);
  expect_rows_of(d, 10);
  for (const double y : d.label) ASSERT_TRUE(y == 1.0 || y == -1.0) << y;
  EXPECT_GT(positive_fraction(d), 0.3);
  EXPECT_LT(positive_fraction(d), 0.7);
  // Values are N(0, 1/k): rows have squared norm 1 on average, and values have mean 0.
  double sum = 0, squares = 0;
  for (const double v : d.value) sum += v, squares += v * v;
  EXPECT_NEAR(squares / static_cast<double>(d.rows()), 1.0, 0.05);
  EXPECT_NEAR(sum / static_cast<double>(d.nnz()), 0.0, 0.01);
  EXPECT_EQ(d.source, "synthetic(n=10000,d=100,density=0.1,noise=0.05,seed=1)");
}

TEST(SyntheticReader, SameParametersGiveIdenticalData) {
  const std::map<std::string, std::string> params{{"n", "500"}, {"d", "40"}, {"seed", "7"}};
  EXPECT_TRUE(same_data(generate(params), generate(params)));
  // The path is ignored.
  EXPECT_TRUE(same_data(generate(params), generate(params, "/no/such/file")));
}

TEST(SyntheticReader, DifferentSeedsGiveDifferentData) {
  const Dataset a = generate({{"n", "500"}, {"seed", "1"}});
  const Dataset b = generate({{"n", "500"}, {"seed", "2"}});
  EXPECT_NE(a.index, b.index);
  EXPECT_NE(a.value, b.value);
  EXPECT_NE(a.label, b.label);
}

TEST(SyntheticReader, RowsHoldRoundedDensityTimesD) {
  expect_rows_of(generate({{"n", "200"}, {"d", "100"}, {"density", "0.001"}}), 1);
  expect_rows_of(generate({{"n", "200"}, {"d", "10"}, {"density", "0.55"}}), 6);  // 5.5 -> 6
  expect_rows_of(generate({{"n", "200"}, {"d", "1000"}, {"density", "0.5"}}), 500);
  const Dataset dense = generate({{"n", "50"}, {"d", "7"}, {"density", "1"}});
  expect_rows_of(dense, 7);  // so every row is exactly 0..6
}

TEST(SyntheticReader, ColumnsAreUniform) {
  // 20,000 rows x 5 of 50 columns: each column is chosen 2,000 times on average (sd ~42).
  const Dataset d = generate({{"n", "20000"}, {"d", "50"}, {"density", "0.1"}});
  std::vector<std::int64_t> count(50, 0);
  for (const std::int32_t j : d.index) ++count[static_cast<std::size_t>(j)];
  for (std::size_t j = 0; j < count.size(); ++j) {
    EXPECT_NEAR(static_cast<double>(count[j]), 2000.0, 250.0) << "column " << j;
  }
}

TEST(SyntheticReader, NoiseFlipsOnlyLabelsAtItsRate) {
  const Dataset clean = generate({{"noise", "0"}});
  const Dataset noisy = generate({{"noise", "0.2"}});
  EXPECT_EQ(clean.index, noisy.index);
  EXPECT_EQ(clean.value, noisy.value);
  double flipped = 0;
  for (std::size_t i = 0; i < clean.label.size(); ++i) flipped += clean.label[i] != noisy.label[i];
  EXPECT_NEAR(flipped / static_cast<double>(clean.rows()), 0.2, 0.025);
}

TEST(SyntheticReader, CleanLabelsFollowALinearModel) {
  // Without noise the labels are sign(a.w*). The direction sum_i y_i a_i estimates w*, and
  // classifies about 96% of rows; labels unrelated to the features would give about 50%.
  const Dataset d = generate({{"noise", "0"}});
  std::vector<double> w(static_cast<std::size_t>(d.cols), 0.0);
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    const auto row = d.view().row(i);
    for (std::int64_t j = 0; j < row.size; ++j) w[row.index[j]] += d.label[i] * row.value[j];
  }
  double correct = 0;
  for (std::int64_t i = 0; i < d.rows(); ++i)
    correct += (d.view().row(i).dot(w.data()) >= 0) == (d.label[i] > 0);
  EXPECT_GT(correct / static_cast<double>(d.rows()), 0.9);
}

TEST(SyntheticReader, RejectsBadParameters) {
  const std::map<std::string, std::string> bad[] = {
      {{"n", "0"}},          {{"n", "-5"}},       {{"n", "1.5"}},       {{"d", "0"}},
      {{"d", "3000000000"}}, {{"density", "0"}},  {{"density", "1.5"}}, {{"density", "-0.1"}},
      {{"density", "nan"}},  {{"noise", "-0.1"}}, {{"noise", "0.6"}},   {{"seed", "-1"}},
      {{"seed", "x"}},
  };
  for (const auto& params : bad) {
    const std::string name = params.begin()->first;
    SCOPED_TRACE(name + "=" + params.begin()->second);
    try {
      generate(params);
      ADD_FAILURE() << "no ParamError";
    } catch (const localsgd::ParamError& e) {
      EXPECT_NE(std::string(e.what()).find("parameter " + name + "="), std::string::npos)
          << e.what();
    }
  }
}

TEST(SyntheticReader, AcceptsBoundaryParameters) {
  const Dataset d = generate({{"n", "1"}, {"d", "1"}, {"density", "1"}, {"noise", "0.5"}});
  EXPECT_EQ(d.rows(), 1);
  EXPECT_EQ(d.nnz(), 1);
  EXPECT_EQ(d.source, "synthetic(n=1,d=1,density=1,noise=0.5,seed=1)");
}

}  // namespace

namespace {

TEST(SyntheticReader, RegressionTargetsFollowTheWrittenGeneratingModel) {
  localsgd::testing::TempDir dir;
  const auto truth = dir.path() / "truth.model";
  localsgd::ParamMap p;
  p.set("task", "regression");
  p.set("n", "3000");
  p.set("d", "50");
  p.set("density", "0.2");
  p.set("noise", "0.05");
  p.set("truth", truth.string());
  const auto& m = localsgd::core::load_plugin("synthetic", localsgd::PluginKind::reader);
  const Dataset d = localsgd::core::make_reader(m, p)->read({""});
  const auto model = localsgd::core::load_model(truth);
  EXPECT_EQ(model.objective, "ridge");
  ASSERT_EQ(model.coefficients.size(), 50u);
  // Residuals y - a.w* are the noise: mean ~0, standard deviation ~0.05.
  double sum = 0, sum2 = 0;
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    const double r =
        d.label[static_cast<std::size_t>(i)] - d.view().row(i).dot(model.coefficients.data());
    sum += r;
    sum2 += r * r;
  }
  const double n = static_cast<double>(d.rows());
  EXPECT_NEAR(sum / n, 0.0, 0.005);
  EXPECT_NEAR(std::sqrt(sum2 / n), 0.05, 0.003);
  // The features are those of the classification task with the same seed.
  p.set("task", "classification");
  p.set("truth", "");
  const Dataset c = localsgd::core::make_reader(m, p)->read({""});
  EXPECT_EQ(c.index, d.index);
  EXPECT_EQ(c.value, d.value);
  p.set("task", "ranking");
  EXPECT_THROW(localsgd::core::make_reader(m, p), localsgd::ParamError);
}

// The data and the truth file, pinned (XXH3 of their bytes) to what the reader made when
// it had its own Philox stream and wrote the file through the core: its draws are the
// SDK's stream (localsgd/random.hpp) now and its file the SDK's writer, with the same bytes.
TEST(SyntheticReader, DataAndTruthFileArePinned) {
  struct Case {
    std::map<std::string, std::string> params;
    std::uint64_t data_hash, truth_hash;
  };
  const Case cases[] = {
      // Sparse rows (drawn and deduplicated), classification.
      {{{"n", "300"}, {"d", "50"}, {"density", "0.1"}, {"seed", "11"}},
       0xc540dc45ed728fa2ULL,
       0xd12099f1a4099bcdULL},
      // Dense rows (selection sampling), regression.
      {{{"n", "100"}, {"d", "10"}, {"density", "0.9"}, {"task", "regression"}, {"seed", "2"}},
       0xe045e534eaaa0eeeULL,
       0xa5566f5a740781bfULL},
  };
  localsgd::testing::TempDir dir;
  for (const Case& c : cases) {
    auto params = c.params;
    params["truth"] = (dir.path() / "truth.model").string();
    const Dataset d = generate(params);
    std::ostringstream bin(std::ios::binary);
    localsgd::core::binary::write_binary(bin, d.view());
    const std::string data = bin.str();
    EXPECT_EQ(localsgd::core::binary::hash64(data.data(), data.size()), c.data_hash);
    const std::string truth = localsgd::testing::read_text(params["truth"]);
    EXPECT_EQ(localsgd::core::binary::hash64(truth.data(), truth.size()), c.truth_hash);
  }
}

TEST(SyntheticReader, MillionsOfFeaturesWithoutATextFile) {
  localsgd::ParamMap p;
  p.set("n", "200000");
  p.set("d", "5000000");
  p.set("density", "0.000004");  // 20 entries per row
  const auto& m = localsgd::core::load_plugin("synthetic", localsgd::PluginKind::reader);
  const Dataset d = localsgd::core::make_reader(m, p)->read({""});
  EXPECT_EQ(d.cols, 5000000);
  EXPECT_EQ(d.nnz(), 4000000);
  EXPECT_GT(*std::max_element(d.index.begin(), d.index.end()), 4900000);
}

}  // namespace
