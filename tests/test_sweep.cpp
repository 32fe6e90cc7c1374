// localsgd sweep on a tiny synthetic problem: the table's columns, speedups computed from
// the medians, the JSON form, the --out file and a non-empty plot.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "localsgd/core/sweep.hpp"
#include "test_support.hpp"

namespace {

using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

const std::vector<std::string> kTiny{"sweep",    "--plugin",
                                     "logreg",   "--reader-param",
                                     "n=2000",   "--reader-param",
                                     "d=20",     "-K",
                                     "1,2,4",    "-H",
                                     "1,4",      "--target-rel",
                                     "2e-2",     "--repeats",
                                     "2",        "--lr",
                                     "constant", "--lr-grid",
                                     "eta=0.5,2"};

TEST(Sweep, TableHasTheExpectedColumnsAndAPlotIsDrawn) {
  TempDir dir;
  auto args = kTiny;
  for (const char* a : {"--plot", ""}) args.push_back(a);
  args.back() = (dir.path() / "speedup.svg").string();
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header;
  std::getline(lines, header);
  for (const char* column : {"workers", "local_steps", "batch", "lr_eta", "steps_to_target",
                             "rounds", "reached", "speedup", "time_speedup"})
    EXPECT_NE(header.find(column), std::string::npos) << column << " in " << header;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 7);  // header + 3 x 2 points
  EXPECT_GT(std::filesystem::file_size(dir.path() / "speedup.svg"), 1000u);
  EXPECT_NE(localsgd::testing::read_text(dir.path() / "speedup.svg").find("<svg"),
            std::string::npos);
}

TEST(Sweep, JsonPointsAreConsistentAndTheSummaryComesLast) {
  TempDir dir;
  auto args = kTiny;
  for (const std::string& a :
       {std::string("--format"), std::string("json"), std::string("--out"),
        (dir.path() / "sweep.jsonl").string(), std::string("--rho"), std::string("10")})
    args.push_back(a);
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(localsgd::testing::read_text(dir.path() / "sweep.jsonl"), r.out);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> points;
  nlohmann::json last;
  while (std::getline(lines, line)) {
    last = nlohmann::json::parse(line);
    if (last["event"] == "sweep_point") points.push_back(last);
  }
  EXPECT_EQ(last["event"], "sweep");
  ASSERT_EQ(points.size(), 6u);
  std::map<std::int64_t, double> k1_steps;
  for (const auto& p : points)
    if (p["workers"] == 1)
      k1_steps[p["local_steps"].get<std::int64_t>()] = p["steps_to_target"].get<double>();
  for (const auto& p : points) {
    ASSERT_FALSE(p["steps_to_target"].is_null()) << p.dump();
    const double steps = p["steps_to_target"].get<double>(), rounds = p["rounds"].get<double>();
    const auto K = p["workers"].get<double>(), H = p["local_steps"].get<double>();
    EXPECT_NEAR(rounds, std::ceil(steps / H), 1.0)
        << p.dump();  // the median of runs that stop at evals
    EXPECT_DOUBLE_EQ(p["speedup"].get<double>(),
                     k1_steps[p["local_steps"].get<std::int64_t>()] / steps);
    const double model = k1_steps[p["local_steps"].get<std::int64_t>()] * 4 /
                         (steps * 4 + 2 * (K - 1) * 10 * rounds);
    EXPECT_NEAR(p["time_speedup"].get<double>(), model, 1e-12 * model);
    EXPECT_TRUE(p["lr_eta"] == 0.5 || p["lr_eta"] == 2.0);
  }
}

TEST(Sweep, NeedsATargetAndValidGridValues) {
  EXPECT_EQ(run_cli({"sweep", "--plugin", "logreg"}).exit_code, 2);
  EXPECT_EQ(run_cli({"sweep", "--plugin", "logreg", "--target", "1", "-K", "0,1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"sweep", "--plugin", "logreg", "--target", "1", "--lr-grid", "eta"}).exit_code,
            2);
  EXPECT_EQ(run_cli({"sweep", "--plugin", "logreg", "--target", "1", "--plot", "x.pdf"}).exit_code,
            2);
}

}  // namespace
