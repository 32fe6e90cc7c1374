// Models other tools read: `localsgd model export --to liblinear` read back by Debian's
// liblinear-predict gives localsgd predict's labels (values, for ridge) on every row, and
// `model import` of liblinear-train's models predicts as liblinear-predict does.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using localsgd::testing::data_file;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

bool have_liblinear() {
  return std::system("command -v liblinear-predict >/dev/null 2>&1") == 0;
}

#define REQUIRE_LIBLINEAR()                                                                 \
  do {                                                                                      \
    if (!have_liblinear()) {                                                                \
      if (localsgd::testing::running_in_ci()) FAIL() << "liblinear-tools is not installed"; \
      GTEST_SKIP() << "liblinear-tools is not installed";                                   \
    }                                                                                       \
  } while (false)

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The first column of `localsgd predict` (after its header line).
std::vector<std::string> our_predictions(const std::string& model, const std::string& data) {
  const auto r = run_cli({"predict", "--model", model, "--data", data, "--allow-extra-features"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<std::string> first;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) first.push_back(line.substr(0, line.find(' ')));
  return first;
}

std::vector<std::string> liblinear_predictions(const std::string& data, const std::string& model,
                                               const TempDir& dir) {
  const auto out = dir.path() / "liblinear.out";
  const std::string command =
      "liblinear-predict " + data + " " + model + " " + out.string() + " >/dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return lines_of(out);
}

struct Case {
  const char* name;
  std::vector<std::string> train;  // after --data FILE
  const char* data;
  const char* test;
};

class LiblinearExport : public ::testing::TestWithParam<Case> {};

TEST_P(LiblinearExport, LiblinearPredictGivesOurPredictions) {
  REQUIRE_LIBLINEAR();
  const Case& c = GetParam();
  LOCALSGD_REQUIRE_DATA_FILE(data_file(c.data));
  TempDir dir;
  const auto model = dir.path() / "m.model", exported = dir.path() / "m.liblinear";
  std::vector<std::string> train = {"train", "--data", data_file(c.data).string(),
                                    "-q",    "--out",  model.string()};
  train.insert(train.end(), c.train.begin(), c.train.end());
  const auto t = run_cli(train);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const auto e = run_cli({"model", "export", model.string(), "--out", exported.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string test = data_file(c.test).string();
  const auto theirs = liblinear_predictions(test, exported.string(), dir);
  const auto ours = our_predictions(model.string(), test);
  ASSERT_EQ(theirs.size(), ours.size());
  ASSERT_GT(ours.size(), 1000u);
  for (std::size_t i = 0; i < ours.size(); ++i) {
    // Labels are the same text; values, both printed in shortest round-trip form or %.17g,
    // the same number.
    ASSERT_DOUBLE_EQ(std::stod(theirs[i]), std::stod(ours[i])) << "row " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Objectives, LiblinearExport,
    ::testing::Values(
        Case{"logreg_bias",
             {"--plugin", "logreg", "--param", "bias=true", "--epochs", "2"},
             "a9a",
             "a9a.t"},
        Case{"svm", {"--plugin", "svm", "--epochs", "2"}, "w8a", "w8a"},
        Case{"ridge_bias",
             {"--plugin", "ridge", "--param", "bias=true", "--epochs", "2"},
             "abalone_scale",
             "abalone_scale"},
        Case{"softmax", {"--plugin", "softmax", "--epochs", "2"}, "dna.scale", "dna.scale.t"}),
    [](const auto& info) { return std::string(info.param.name); });

// liblinear-train's own models, imported: our predictions are liblinear-predict's. -s 0
// (logistic, labels listed -1 first on w8a), -s 2 with -B 1 (an intercept), -s 4
// (Crammer-Singer multiclass) and -s 11 (SVR).
TEST(LiblinearImport, PredictsAsLiblinearPredict) {
  REQUIRE_LIBLINEAR();
  for (const char* name : {"w8a", "a9a", "dna.scale", "abalone_scale"})
    LOCALSGD_REQUIRE_DATA_FILE(data_file(name));
  TempDir dir;
  struct Import {
    const char* options;
    const char* data;
    const char* test;
    const char* objective;
  };
  for (const Import& c :
       {Import{"-s 0", "w8a", "w8a", "logreg"}, Import{"-s 2 -B 1", "a9a", "a9a.t", "svm"},
        Import{"-s 4", "dna.scale", "dna.scale.t", "softmax"},
        Import{"-s 11", "abalone_scale", "abalone_scale", "ridge"}}) {
    SCOPED_TRACE(c.options);
    const auto theirs = dir.path() / "t.liblinear", ours = dir.path() / "t.model";
    const std::string command = std::string("liblinear-train -q ") + c.options + " " +
                                data_file(c.data).string() + " " + theirs.string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const auto r = run_cli({"model", "import", theirs.string(), "--out", ours.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(lines_of(ours)[0].find(std::string("\"objective\":\"") + c.objective + "\""),
              std::string::npos)
        << lines_of(ours)[0];
    const std::string test = data_file(c.test).string();
    const auto expected = liblinear_predictions(test, theirs.string(), dir);
    const auto got = our_predictions(ours.string(), test);
    ASSERT_EQ(expected.size(), got.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
      differ += std::stod(expected[i]) != std::stod(got[i]) ? 1 : 0;
    EXPECT_EQ(differ, 0u);
  }
}

TEST(LiblinearModel, RefusalsNameTheObjectiveOrTheLine) {
  TempDir dir;
  const auto model = dir.path() / "h.model";
  ASSERT_EQ(run_cli({"train", "--plugin", "huber", "--reader-param", "n=200", "--reader-param",
                     "task=regression", "--steps", "20", "-q", "--out", model.string()})
                .exit_code,
            0);
  const auto huber = run_cli({"model", "export", model.string()});
  EXPECT_EQ(huber.exit_code, 2);
  EXPECT_EQ(huber.err,
            "localsgd: error: LIBLINEAR has no model for objective 'huber' (export supports "
            "logreg, svm, ridge and softmax)\n");
  const auto bad = dir.write("bad.liblinear",
                             "solver_type L2R_LR\nnr_class 2\nlabel 1 -1\n"
                             "nr_feature 2\nbias -1\nw\n0.5 \nx \n");
  const auto r = run_cli({"model", "import", bad.string(), "--out", (dir.path() / "b").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err,
            "localsgd: error: " + bad.string() + ":8:1: expected a finite weight, got 'x'\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "b"));
  const auto other = dir.write("other.txt", "hello\n");
  const auto o = run_cli({"model", "import", other.string(), "--out", (dir.path() / "c").string()});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.err, "localsgd: error: " + other.string() +
                       ":1:1: not a LIBLINEAR model file (no solver_type line)\n");
}

}  // namespace
