// eval and predict: the round trip of a saved model, and every way a model and a data set
// can fail to match.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/run/train.hpp"
#include "localsgd/core/solve/evaluate.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::last_line;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

// Trains logreg on a small LIBSVM file and returns (model path, data path, summary).
struct Trained {
  TempDir dir;
  std::filesystem::path model, data;
  nlohmann::json summary;
};

std::unique_ptr<Trained> train_small() {
  auto t = std::make_unique<Trained>();
  std::string rows;
  for (int i = 0; i < 200; ++i) {
    const bool positive = i % 3 == 0;
    rows += (positive ? "+1" : "-1") + std::string(" 1:") + (positive ? "1" : "0.2") +
            " 2:" + std::to_string((i % 7) / 7.0) + " 3:" + (positive ? "0.1" : "0.9") + "\n";
  }
  t->data = t->dir.write("train.svm", rows);
  t->model = t->dir.path() / "m.model";
  const auto r = run_cli({"train", "--plugin", "logreg", "--data", t->data.string(), "--steps",
                          "400", "--out", t->model.string(), "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  t->summary = nlohmann::json::parse(last_line(r.out));
  return t;
}

// One training for the suite: the tests only read its model and data, and add files of
// their own (each a different name) to its directory.
class Eval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { trained_ = train_small(); }
  static void TearDownTestSuite() { trained_.reset(); }
  // Null only if the training in SetUpTestSuite threw (its failure is reported there).
  static const Trained* trained() { return trained_.get(); }

 private:
  static inline std::unique_ptr<Trained> trained_;
};

TEST_F(Eval, RoundTripReproducesTheTrainingSummary) {
  const Trained* t = trained();
  ASSERT_NE(t, nullptr);
  const auto r = run_cli(
      {"eval", "--model", t->model.string(), "--data", t->data.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto e = nlohmann::json::parse(r.out);
  EXPECT_EQ(e["event"], "eval");
  EXPECT_EQ(e["rows"], 200);
  EXPECT_DOUBLE_EQ(e["objective"].get<double>(), t->summary["objective"].get<double>());
  EXPECT_GT(e["accuracy"].get<double>(), 0.95);  // the classes are separable by feature 1

  const auto p = run_cli({"predict", "--model", t->model.string(), "--data", t->data.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::istringstream lines(p.out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line, "label probability");
  int n = 0, hits = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    double label = 0, prob = -1;
    ASSERT_TRUE(fields >> label >> prob) << line;
    ASSERT_GE(prob, 0.0);
    ASSERT_LE(prob, 1.0);
    EXPECT_EQ(label, prob > 0.5 ? 1.0 : -1.0) << line;
    hits += (label > 0) == (n % 3 == 0);
    ++n;
  }
  EXPECT_EQ(n, 200);
  EXPECT_DOUBLE_EQ(hits / 200.0, e["accuracy"].get<double>());
}

// The three formats carry the same numbers; --out writes exactly what stdout would.
TEST_F(Eval, PredictFormatsAgreeAndOutWritesTheSame) {
  const Trained* t = trained();
  ASSERT_NE(t, nullptr);
  const std::vector<std::string> base = {"predict", "--model", t->model.string(), "--data",
                                         t->data.string()};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string table = with({}), csv = with({"--format", "csv"}),
                    json = with({"--format", "json"});
  std::istringstream t_lines(table), c_lines(csv), j_lines(json);
  std::string t_line, c_line, j_line;
  std::getline(t_lines, t_line);
  std::getline(c_lines, c_line);
  EXPECT_EQ(c_line, "label,probability");
  int n = 0;
  while (std::getline(t_lines, t_line)) {
    ASSERT_TRUE(std::getline(c_lines, c_line));
    ASSERT_TRUE(std::getline(j_lines, j_line));
    std::string c_copy = c_line;
    std::replace(c_copy.begin(), c_copy.end(), ',', ' ');
    EXPECT_EQ(c_copy, t_line);
    const auto j = nlohmann::json::parse(j_line);
    std::istringstream fields(t_line);
    double label = 0, prob = 0;
    fields >> label >> prob;
    EXPECT_EQ(j["label"].get<double>(), label);
    EXPECT_EQ(j["probability"].get<double>(), prob);  // shortest round-trip text: exact
    ++n;
  }
  EXPECT_EQ(n, 200);
  EXPECT_FALSE(std::getline(j_lines, j_line));

  const auto out = t->dir.path() / "p.csv";
  EXPECT_EQ(with({"--format", "csv", "--out", out.string()}), "");
  std::ifstream file(out);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(file), {}), csv);
  const auto bad = run_cli(
      {"predict", "--model", t->model.string(), "--data", t->data.string(), "--format", "xml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("xml"), std::string::npos) << bad.err;
}

// Regression models predict a value, multiclass ones a label: the header says which.
TEST(Predict, ColumnsFollowThePredictionKind) {
  TempDir dir;
  const auto data = dir.write("r.svm", "1.5 1:1\n-0.5 2:1\n1 1:1 2:0.5\n").string();
  const auto classes = dir.write("c.svm", "1 1:1\n2 2:1\n3 1:1 2:1\n1 1:0.9\n").string();
  const auto model = dir.path() / "r.model", multi = dir.path() / "c.model";
  ASSERT_EQ(run_cli({"train", "--plugin", "ridge", "--data", data, "--steps", "20", "--out",
                     model.string(), "-q"})
                .exit_code,
            0);
  ASSERT_EQ(run_cli({"train", "--plugin", "softmax", "--data", classes, "--steps", "20", "--out",
                     multi.string(), "-q"})
                .exit_code,
            0);
  const auto r = run_cli({"predict", "--model", model.string(), "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "value");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4);
  const auto c =
      run_cli({"predict", "--model", multi.string(), "--data", classes, "--format", "json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  std::istringstream lines(c.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    const double label = j["label"].get<double>();
    EXPECT_TRUE(label == 1 || label == 2 || label == 3) << line;
    EXPECT_EQ(j.size(), 1u) << line;
    ++n;
  }
  EXPECT_EQ(n, 4);
}

// predict reads no labels: rows still to be labelled carry a placeholder (0, or anything
// the model does not know) and get the predictions their features give. Before, a
// softmax model refused label 0 and logreg label 5 (exit 3). eval still needs them.
TEST(Predict, LabelsThatTheModelDoesNotKnowAreIgnored) {
  TempDir dir;
  const std::string rows = "1:1\n2:1\n1:1 2:1\n1:0.9 2:-1\n";
  const auto with_labels = [&](const std::vector<std::string>& labels) {
    std::string text;
    std::istringstream features(rows);
    std::string line;
    for (std::size_t i = 0; std::getline(features, line); ++i)
      text += labels[i % labels.size()] + " " + line + "\n";
    return text;
  };
  const struct {
    const char* plugin;
    std::vector<std::string> labels;
  } cases[] = {{"softmax", {"1", "2", "3"}}, {"logreg", {"1", "-1"}},    {"svm", {"1", "-1"}},
               {"ridge", {"1.5", "-0.5"}},   {"huber", {"1.5", "-0.5"}}, {"mlp", {"1", "-1"}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.plugin);
    const std::string name = c.plugin;
    const auto train = dir.write(name + ".svm", with_labels(c.labels)).string();
    const auto model = (dir.path() / (name + ".model")).string();
    ASSERT_EQ(run_cli({"train", "--plugin", c.plugin, "--data", train, "--steps", "20", "--out",
                       model, "-q"})
                  .exit_code,
              0);
    const auto expected = run_cli({"predict", "--model", model, "--data", train});
    ASSERT_EQ(expected.exit_code, 0) << expected.err;
    const auto unknown = dir.write(name + "-0.svm", with_labels({"0", "7"})).string();
    const auto r = run_cli({"predict", "--model", model, "--data", unknown});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, expected.out);
    if (name == "softmax") {  // eval scores against the labels: they must be the model's
      const auto e = run_cli({"eval", "--model", model, "--data", unknown});
      EXPECT_EQ(e.exit_code, 3);
      EXPECT_NE(e.err.find("label 0, which is not one of the classes 1,2,3"), std::string::npos)
          << e.err;
    }
  }
}

// Labels print as the data gave them: class 1000000 is "1000000", not "1e+06".
TEST(Predict, WholeNumberLabelsPrintInFull) {
  TempDir dir;
  const auto data =
      dir.write("big.svm", "1000000 1:1\n1000001 2:1\n1000000 1:0.9\n1000001 2:1.1\n").string();
  const auto model = (dir.path() / "big.model").string();
  ASSERT_EQ(run_cli({"train", "--plugin", "softmax", "--data", data, "--steps", "50", "--out",
                     model, "-q"})
                .exit_code,
            0);
  const auto r = run_cli({"predict", "--model", model, "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "label\n1000000\n1000001\n1000000\n1000001\n");
}

TEST_F(Eval, FewerColumnsAreZerosMoreAreAnErrorUnlessAllowed) {
  const Trained* t = trained();
  ASSERT_NE(t, nullptr);
  const auto fewer = t->dir.write("fewer.svm", "+1 1:1\n-1 2:0.5\n");
  EXPECT_EQ(run_cli({"eval", "--model", t->model.string(), "--data", fewer.string()}).exit_code, 0);

  const auto more = t->dir.write("more.svm", "+1 1:1 5:2\n-1 2:0.5 4:1\n");
  const auto r = run_cli({"eval", "--model", t->model.string(), "--data", more.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("column(s) 4..5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-extra-features"), std::string::npos) << r.err;
  const auto allowed = run_cli({"eval", "--model", t->model.string(), "--data", more.string(),
                                "--allow-extra-features", "--format", "json"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  // Dropping columns 4 and 5 leaves the same rows as the `fewer` file.
  const auto same =
      run_cli({"eval", "--model", t->model.string(), "--data", fewer.string(), "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(allowed.out)["objective"],
            nlohmann::json::parse(same.out)["objective"]);

  // The same from the binary cache, whose arrays are the mapped file: dropping columns
  // must work on a copy, not on the mapping.
  const auto more_bin = t->dir.path() / "more.bin";
  ASSERT_EQ(run_cli({"data", "convert", more.string(), more_bin.string()}).exit_code, 0);
  const auto from_bin = run_cli({"eval", "--model", t->model.string(), "--data", more_bin.string(),
                                 "--allow-extra-features", "--format", "json"});
  ASSERT_EQ(from_bin.exit_code, 0) << from_bin.err;
  EXPECT_EQ(nlohmann::json::parse(from_bin.out)["objective"],
            nlohmann::json::parse(same.out)["objective"]);
}

TEST_F(Eval, ForeignCorruptAndMismatchedModelsAreRefused) {
  const Trained* t = trained();
  ASSERT_NE(t, nullptr);
  const auto data = t->data.string();
  auto expect = [&](const std::filesystem::path& model, int code, const std::string& text) {
    const auto r = run_cli({"eval", "--model", model.string(), "--data", data});
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  };
  expect(t->dir.write("foreign.model", "solver_type L2R_LR\nnr_class 2\n"), 3,
         "not a localsgd model");
  std::string text = localsgd::testing::read_text(t->model);
  // Half the file ends inside the JSON header line (three short coefficients follow it).
  ASSERT_LT(text.size() / 2, text.find('\n'));
  expect(t->dir.write("truncated.model", text.substr(0, text.size() / 2)), 3,
         "not a localsgd model file (no JSON header)");
  // Cut after the header and the first coefficient: fewer numbers than it declares.
  const std::size_t second_line = text.find('\n', text.find('\n') + 1) + 1;
  expect(t->dir.write("short.model", text.substr(0, second_line)), 3,
         "header says 3 coefficients, the file has 1 (truncated?)");
  std::string other = text;
  other.replace(other.find("\"objective\":\"logreg\""), 20, "\"objective\":\"nosuch\"");
  expect(t->dir.write("unknown.model", other), 4, "unknown objective plugin 'nosuch'");
  std::string bigger = text;
  bigger.replace(bigger.find("\"dimension\":3"), 13, "\"dimension\":2");
  expect(t->dir.write("mismatch.model", bigger), 3,
         "mismatch.model:4:1: more coefficients than the header's 2");
  expect(t->dir.path() / "missing.model", 3, "cannot open model file");
  // A header whose "format" is not a string, and a device, are bad files too (exit 3).
  std::string numeric = text;
  const std::string format_field = "\"format\":\"localsgd-model\"";
  numeric.replace(numeric.find(format_field), format_field.size(), "\"format\":1");
  expect(t->dir.write("numeric.model", numeric), 3, "not a localsgd model file");
  expect("/dev/zero", 3, "/dev/zero: is a device, expected a model file");
}

}  // namespace

namespace {

TEST_F(Eval, SignPredictionsAreScoredAgainstZeroOneLabels) {
  // svm predicts +1/-1; on data labelled 0/1 a correct -1 must count as a hit.
  localsgd::testing::TempDir dir;
  std::string rows;
  for (int i = 0; i < 100; ++i) rows += (i % 2 ? "1 1:1\n" : "0 2:1\n");
  const auto data = dir.write("zo.svm", rows);
  const auto model = dir.path() / "svm.model";
  ASSERT_EQ(run_cli({"train", "--plugin", "svm", "--data", data.string(), "--steps", "300", "--out",
                     model.string(), "-q"})
                .exit_code,
            0);
  const auto r =
      run_cli({"eval", "--model", model.string(), "--data", data.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["accuracy"].get<double>(), 1.0);
}

}  // namespace

namespace {

// A model trained with an objective given by path (a user's plugin outside the search
// path) records that path and version: eval and predict find it without --plugin, take
// --plugin to override, and refuse a plugin of another objective.
TEST(EvalPluginByPath, TheModelRecordsThePluginFile) {
  TempDir dir;
  const std::string plugin = std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_poisson.so";
  std::string rows;
  for (int i = 0; i < 300; ++i)
    rows += std::to_string(i % 4) + " 1:" + std::to_string((i % 4) / 4.0) + " 2:0.5\n";
  const auto data = dir.write("counts.svm", rows).string();
  const auto model = dir.path() / "p.model";
  const auto trained = run_cli({"train", "--plugin", plugin, "--data", data, "--epochs", "5",
                                "--out", model.string(), "--format", "json"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const core::Model m = core::load_model(model);
  EXPECT_EQ(m.objective, "fixture_poisson");
  EXPECT_EQ(m.plugin_path, std::filesystem::canonical(plugin).string());
  EXPECT_EQ(m.plugin_version, "0.3.0");

  // Not in the search path, yet found: eval reproduces the training objective.
  const auto e = run_cli({"eval", "--model", model.string(), "--data", data, "--format", "json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.err, "");
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(e.out)["objective"].get<double>(),
                   nlohmann::json::parse(last_line(trained.out))["objective"].get<double>());
  const auto p = run_cli({"predict", "--model", model.string(), "--data", data});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out.substr(0, p.out.find('\n')), "value");

  // Moved: the message says which file the model wants and how to give it.
  const auto moved = dir.path() / "moved.so";
  std::filesystem::copy_file(plugin, moved);
  std::string text;
  {
    std::ifstream in(model);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string recorded = "\"plugin_path\":\"" + m.plugin_path + "\"";
  ASSERT_NE(text.find(recorded), std::string::npos) << text.substr(0, 300);
  text.replace(text.find(recorded), recorded.size(), "\"plugin_path\":\"/nonexistent/p.so\"");
  const auto stale = dir.write("stale.model", text);
  const auto lost = run_cli({"eval", "--model", stale.string(), "--data", data});
  EXPECT_EQ(lost.exit_code, 4);
  EXPECT_NE(lost.err.find("unknown objective plugin 'fixture_poisson'"), std::string::npos)
      << lost.err;
  EXPECT_NE(lost.err.find("was trained with /nonexistent/p.so, which is gone or holds another "
                          "objective: give it with --plugin"),
            std::string::npos)
      << lost.err;
  const auto given = run_cli({"eval", "--model", stale.string(), "--data", data, "--plugin",
                              moved.string(), "--format", "json"});
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(nlohmann::json::parse(given.out)["objective"],
            nlohmann::json::parse(e.out)["objective"]);

  // Another objective is refused, naming both.
  const auto other =
      run_cli({"eval", "--model", model.string(), "--data", data, "--plugin", "ridge"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_EQ(other.err, "localsgd: error: --plugin ridge is objective 'ridge', but " +
                           model.string() + " is a 'fixture_poisson' model\n");
}

}  // namespace
