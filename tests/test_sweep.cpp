// localsgd sweep on a tiny synthetic problem: the table's columns, speedups computed from
// the medians, the JSON form, the --out file and a non-empty plot.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/sweep.hpp"
#include "localsgd/core/solve/theory.hpp"
#include "test_support.hpp"

namespace {

using json = nlohmann::json;
using localsgd::format_number;
using localsgd::kExitUsage;
using localsgd::testing::CliResult;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;
namespace fs = std::filesystem;

// A sweep on a tiny synthetic problem over the grid K x H, tuning eta over {0.5, 2}.
std::vector<std::string> tiny_sweep(const std::string& K, const std::string& H,
                                    const std::string& repeats) {
  return {"sweep",    "--plugin",
          "logreg",   "--reader-param",
          "n=2000",   "--reader-param",
          "d=20",     "-K",
          K,          "-H",
          H,          "--target-rel",
          "2e-2",     "--repeats",
          repeats,    "--lr",
          "constant", "--lr-grid",
          "eta=0.5,2"};
}

// Each line of a JSON stream.
std::vector<json> events_of(const std::string& out) {
  std::vector<json> events;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  return events;
}

// The first sweep_point event of a JSON stream (after its sweep_start).
json first_point(const std::string& out) {
  for (const json& e : events_of(out))
    if (e["event"] == "sweep_point") return e;
  ADD_FAILURE() << "no sweep_point in " << out;
  return json();
}

TEST(Sweep, TableHasTheExpectedColumnsAndAPlotIsDrawn) {
  TempDir dir;
  // Only the table's shape and the plot are checked here, so a smaller grid (8 trainings)
  // than the JSON test's; K = 1 stays in it, as the speedups in the plot need it.
  auto args = tiny_sweep("1,2", "1,4", "1");
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
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5);  // header + 2 x 2 points
  EXPECT_GT(std::filesystem::file_size(dir.path() / "speedup.svg"), 1000u);
  const std::string steps_plot = localsgd::testing::read_text(dir.path() / "speedup.svg");
  EXPECT_NE(steps_plot.find("<svg"), std::string::npos);
  EXPECT_NE(steps_plot.find("speedup (steps)"), std::string::npos);

  // The same grid's speedup in the modelled time of --rho.
  for (const char* a : {"--plot-speedup", "time", "--rho", "10"}) args.push_back(a);
  args[args.size() - 5] = (dir.path() / "time.svg").string();
  const auto t = run_cli(args);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string time_plot = localsgd::testing::read_text(dir.path() / "time.svg");
  EXPECT_NE(time_plot.find("speedup (modelled time, rho = 10)"), std::string::npos);
  EXPECT_NE(time_plot.find("H = 4"), std::string::npos);
}

// On request (a terminal by default) stderr counts the finished runs; stdout is the same.
TEST(Sweep, ProgressCountsRunsOnStderrOnly) {
  const auto quiet = run_cli([] {
    auto a = tiny_sweep("1,2", "1", "2");
    for (const char* x : {"--progress", "never"}) a.push_back(x);
    return a;
  }());
  const auto shown = run_cli([] {
    auto a = tiny_sweep("1,2", "1", "2");
    for (const char* x : {"--progress", "always"}) a.push_back(x);
    return a;
  }());
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, quiet.out);
  EXPECT_EQ(quiet.err.find("runs"), std::string::npos) << quiet.err;
  // 2 points x 2 step sizes x 2 seeds = 8 runs; the last state stays on its line.
  const std::string last = "\rsweep 8/8 runs  ";
  const auto at = shown.err.rfind(last);
  ASSERT_NE(at, std::string::npos) << shown.err;
  EXPECT_TRUE(shown.err.ends_with("\x1b[K\n")) << shown.err;
  EXPECT_EQ(shown.err.find("ETA", at), std::string::npos) << shown.err;
}

TEST(Sweep, JsonPointsAreConsistentAndTheSummaryComesLast) {
  TempDir dir;
  auto args = tiny_sweep("1,2,4", "1,4", "2");
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

// A repeated --lr-grid tunes the product of its axes: the winner of each point is the
// setting that a sweep of each setting alone finds fastest, and both values are named.
TEST(Sweep, RepeatedLrGridsTuneTheirProductAndNameTheWinningPair) {
  const std::vector<std::string> base = {
      "sweep",   "--plugin", "logreg", "--reader-param", "n=1000", "--reader-param", "d=20", "-K",
      "1,2",     "-H",       "2",      "--target-rel",   "2e-2",   "--repeats",      "3",    "--lr",
      "invtime", "--format", "json"};
  auto grid = base;
  // c = 0.001 never gets there in the budget: its runs are abandoned (SweepRace) once the
  // point has a finished setting, which must not change any number of the table.
  for (const char* a : {"--lr-grid", "eta0=0.25,1,4", "--lr-grid", "c=0.001,0.25,1"})
    grid.push_back(a);
  const CliResult r = run_cli(grid);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> points;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const json e = json::parse(line);
    if (e["event"] == "sweep_point") points.push_back(e);
  }
  ASSERT_EQ(points.size(), 2u);
  const json summary = json::parse(r.out.substr(r.out.rfind("{\"event\":\"sweep\"")));
  EXPECT_EQ(summary["runs"], 2 * 9 * 3);
  EXPECT_GT(summary["abandoned_runs"].get<int>(), 0) << summary;
  for (const json& point : points) {
    ASSERT_TRUE(point.contains("lr_eta0") && point.contains("lr_c")) << point;
    // Each setting alone, at this point: nothing abandoned there.
    double best = std::numeric_limits<double>::infinity();
    std::pair<double, double> winner{0, 0};
    json winning;
    for (const double eta0 : {0.25, 1.0, 4.0})
      for (const double c : {0.001, 0.25, 1.0}) {
        auto one = base;
        one[8] = std::to_string(point["workers"].get<int>());
        one.insert(one.end(), {"--lr-param", "eta0=" + format_number(eta0), "--lr-param",
                               "c=" + format_number(c)});
        const CliResult alone = run_cli(one);
        ASSERT_EQ(alone.exit_code, 0) << alone.err;
        const json e = first_point(alone.out);
        const double steps = e["steps_to_target"].is_null()
                                 ? std::numeric_limits<double>::infinity()
                                 : e["steps_to_target"].get<double>();
        if (steps < best) best = steps, winner = {eta0, c}, winning = e;
      }
    ASSERT_TRUE(std::isfinite(best));
    EXPECT_EQ(point["steps_to_target"].get<double>(), best) << point;
    EXPECT_EQ(point["rounds"], winning["rounds"]) << point;
    EXPECT_EQ(point["reached"], winning["reached"]) << point;
    EXPECT_EQ(point["lr_eta0"].get<double>(), winner.first) << point;
    EXPECT_EQ(point["lr_c"].get<double>(), winner.second) << point;
  }
  // The table names both winning values in their own columns.
  auto table = grid;
  table.resize(table.size() - 6);  // drop --format json and the grids, then put the grids back
  for (const char* a : {"--lr-grid", "eta0=0.25,1,4", "--lr-grid", "c=0.001,0.25,1"})
    table.push_back(a);
  const CliResult t = run_cli(table);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("lr_eta0"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("lr_c"), std::string::npos) << t.out;
  // The same key twice, or in both --lr-grid and --lr-param, is refused.
  auto twice = base;
  for (const char* a : {"--lr-grid", "c=1,2", "--lr-grid", "c=3"}) twice.push_back(a);
  const CliResult dup = run_cli(twice);
  EXPECT_EQ(dup.exit_code, kExitUsage);
  EXPECT_NE(dup.err.find("--lr-grid c is given twice"), std::string::npos) << dup.err;
}

// A point of the sweep is the run `train` makes with the same options: the partition and
// the averaging shift reach every run; with --measure x-bar, the steps are those of the
// first evaluation where the last average f(x̄) is within EPS.
TEST(Sweep, APointIsTheTrainRunWithTheSameOptions) {
  const std::vector<std::string> common = {"--plugin",
                                           "logreg",
                                           "--reader-param",
                                           "n=2000",
                                           "--reader-param",
                                           "d=20",
                                           "-K",
                                           "2",
                                           "-H",
                                           "4",
                                           "--lr",
                                           "constant",
                                           "--lr-param",
                                           "eta=0.5",
                                           "--partition",
                                           "label-skew",
                                           "--partition-param",
                                           "alpha=0.1",
                                           "--avg-shift",
                                           "0",
                                           "--target-rel",
                                           "2e-2",
                                           "--format",
                                           "json"};
  auto train = std::vector<std::string>{"train", "--epochs", "50", "--eval-every",
                                        "31"};  // the sweep's cadence: 2000 / (2 * 4 * 8)
  train.insert(train.end(), common.begin(), common.end());
  const CliResult t = run_cli(train);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::vector<json> progress = events_of(t.out);
  const json& summary = progress.back();
  ASSERT_EQ(summary["partition"], "label-skew(alpha=0.1)");
  ASSERT_EQ(summary["avg_shift"], 0.0);
  ASSERT_TRUE(summary["target_reached"].get<bool>());

  auto sweep = std::vector<std::string>{"sweep", "--repeats", "1"};
  sweep.insert(sweep.end(), common.begin(), common.end());
  const CliResult s = run_cli(sweep);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const json point = first_point(s.out);
  EXPECT_EQ(point["steps_to_target"], summary["steps_to_target"]) << point;
  EXPECT_EQ(point["rounds"], summary["rounds"]) << point;
  EXPECT_EQ(events_of(s.out).back()["measure"], "x-hat");

  // x̄: the first progress event of a run without a target whose f(x̄) is within 2e-2.
  train.erase(train.end() - 4, train.end() - 2);  // --target-rel 2e-2
  const CliResult all = run_cli(train);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const double fstar = summary["fstar"].get<double>();
  std::optional<std::int64_t> first;
  for (const json& e : events_of(all.out))
    if (e["event"] == "progress" && !first &&
        (e["objective_last"].get<double>() - fstar) / std::abs(fstar) <= 2e-2)
      first = e["step"].get<std::int64_t>();
  ASSERT_TRUE(first.has_value());
  EXPECT_LT(*first, summary["steps_to_target"].get<std::int64_t>());  // x̄ is ahead here
  sweep.insert(sweep.end(), {"--measure", "x-bar"});
  const CliResult last = run_cli(sweep);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(first_point(last.out)["steps_to_target"].get<double>(), static_cast<double>(*first))
      << last.out;
  // Its rounds are those of train stopped there: the syncs so far and the closing average.
  EXPECT_EQ(first_point(last.out)["rounds"].get<double>(),
            std::ceil(static_cast<double>(*first) / 4))
      << last.out;
  EXPECT_EQ(events_of(last.out).back()["measure"], "x-bar");
  sweep.back() = "x-tilde";
  const CliResult wrong = run_cli(sweep);
  EXPECT_EQ(wrong.exit_code, kExitUsage);
  EXPECT_NE(wrong.err.find("unknown model 'x-tilde'; available: x-hat, x-bar"), std::string::npos)
      << wrong.err;
}

// A partition that cannot serve one of the K values is refused before any work: f* is
// not even solved (an empty cache would say so on stderr), let alone the K = 1 runs.
TEST(Sweep, APartitionThatCannotServeSomeKIsRefusedUpFront) {
  TempDir cache;
  const CliResult r =
      run_cli({"sweep", "--plugin", "logreg", "--reader-param", "n=50", "--reader-param", "d=5",
               "-K", "1,64", "-H", "1", "--target-rel", "1e-1", "--partition", "shard"},
              "XDG_CACHE_HOME=" + cache.path().string());
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // the message alone
  EXPECT_EQ(r.err.find("computed f*"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("localsgd: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("without rows"), std::string::npos) << r.err;
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

namespace {

// The smallest T with bound(T) <= eps, found by brute force, for a small problem.
TEST(Theory, StepsAreTheFirstTWhereTheBoundMeetsEps) {
  localsgd::core::TheoryConstants c;
  c.L = 2.0;
  c.mu = 0.5;
  c.sigma2 = 3.0;
  c.G2 = 4.0;
  c.distance2 = 10.0;
  auto bound = [&](double K, double H, double b, double T) {
    const double a = std::max(16 * c.L / c.mu, H);
    double S = 0;
    for (double t = 0; t < T; ++t) S += (a + t) * (a + t);
    return c.mu * a * a * a / (2 * S) * c.distance2 +
           4 * T * (T + 2 * a) / (c.mu * S) * c.sigma2 / (b * K) +
           256 * T / (c.mu * c.mu * S) * c.G2 * H * H * c.L;
  };
  for (auto [K, H] : {std::pair{1, 1}, {4, 1}, {4, 8}}) {
    const auto T = localsgd::core::theoretical_steps(c, K, H, 2, 0.05);
    ASSERT_GT(T, 1);
    EXPECT_LE(bound(K, H, 2, static_cast<double>(T)), 0.05 * (1 + 1e-12));
    EXPECT_GT(bound(K, H, 2, static_cast<double>(T - 1)), 0.05);
  }
  // More workers need fewer steps; longer local phases need more.
  EXPECT_LT(localsgd::core::theoretical_steps(c, 4, 1, 2, 0.05),
            localsgd::core::theoretical_steps(c, 1, 1, 2, 0.05));
  EXPECT_GT(localsgd::core::theoretical_steps(c, 4, 64, 2, 0.05),
            localsgd::core::theoretical_steps(c, 4, 1, 2, 0.05));
}

TEST(Sweep, TheoryColumnsAndTheirEstimates) {
  TempDir dir;
  const auto r = run_cli({"sweep",    "--plugin",
                          "logreg",   "--reader-param",
                          "n=2000",   "--reader-param",
                          "d=20",     "-K",
                          "1,4",      "-H",
                          "1",        "--target-rel",
                          "2e-2",     "--repeats",
                          "1",        "--theory",
                          "--format", "json",
                          "--plot",   (dir.path() / "theory.svg").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> events = events_of(r.out);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]["event"], "sweep_start");
  events.erase(events.begin());
  EXPECT_GT(events[1]["theory_speedup"].get<double>(), 1.0);
  EXPECT_LT(events[1]["theory_steps"].get<double>(), events[0]["theory_steps"].get<double>());
  for (const char* key : {"L", "mu", "sigma2", "G2", "distance2"})
    EXPECT_GT(events[2][key].get<double>(), 0.0) << key;
  EXPECT_GE(events[2]["G2"].get<double>(), events[2]["sigma2"].get<double>());
  // The plot draws the theorem's speedup next to the measured one.
  const std::string svg = localsgd::testing::read_text(dir.path() / "theory.svg");
  EXPECT_NE(svg.find("H = 1, Theorem 2.2"), std::string::npos);
}

}  // namespace

namespace {

// Lines of a stream, each with its newline.
std::vector<std::string> lines_of(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  return lines;
}

}  // namespace

// A sweep streams its points as they finish; --resume takes the points of an earlier
// stream (a killed sweep's --out file: any subset, a last line cut short) and runs only the
// others, with the same table as one sweep; other options are refused, saying which.
TEST(Sweep, ResumeRunsOnlyTheMissingPointsAndGivesTheSameTable) {
  TempDir dir;
  auto json_sweep = [](const std::string& K) {
    auto a = tiny_sweep(K, "1,4", "1");
    a.insert(a.end(), {"--format", "json"});
    return a;
  };
  const CliResult full = run_cli(json_sweep("1,2"));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::vector<std::string> lines = lines_of(full.out);
  ASSERT_EQ(lines.size(), 6u);  // sweep_start, 4 points, sweep
  EXPECT_EQ(json::parse(lines[0])["event"], "sweep_start");

  // Points 2 and 4 of the grid lost, and a line cut short by the kill.
  const fs::path journal = dir.path() / "sweep.jsonl";
  localsgd::testing::write_text(journal, lines[0] + lines[1] + lines[3] + "{\"event\":\"sweep_po");
  auto resume = json_sweep("1,2");
  resume.insert(resume.end(), {"--resume", journal.string(), "--out", journal.string()});
  const CliResult resumed = run_cli(resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::vector<std::string> again = lines_of(resumed.out);
  ASSERT_EQ(again.size(), 6u) << resumed.out;
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(again[i], lines[i]) << i;  // bitwise the same
  const json summary = json::parse(again[5]);
  EXPECT_EQ(summary["resumed_points"], 2);
  EXPECT_EQ(summary["runs"], 2 * 2);  // 2 points x 2 step sizes x 1 seed
  EXPECT_EQ(localsgd::testing::read_text(journal), resumed.out);

  // A wider grid keeps the finished points and runs the new ones only.
  auto wider = json_sweep("1,2,4");
  wider.insert(wider.end(), {"--resume", journal.string()});
  const CliResult grown = run_cli(wider);
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  const std::vector<std::string> grown_lines = lines_of(grown.out);
  ASSERT_EQ(grown_lines.size(), 8u);
  for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(grown_lines[i], lines[i]) << i;
  EXPECT_EQ(json::parse(grown_lines[7])["resumed_points"], 4);
  EXPECT_EQ(json::parse(grown_lines[7])["runs"], 2 * 2);

  // Other options: refused before anything is written.
  const std::string kept = localsgd::testing::read_text(journal);
  auto other = json_sweep("1,2");
  other[14] = "2";  // --repeats
  other.insert(other.end(), {"--resume", journal.string(), "--out", journal.string()});
  const CliResult refused = run_cli(other);
  EXPECT_EQ(refused.exit_code, kExitUsage);
  EXPECT_NE(refused.err.find("localsgd: error: --resume " + journal.string() +
                             ": repeats is 1 in " + journal.string() +
                             " and 2 in this sweep; a sweep resumes with the "
                             "same options and data"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(localsgd::testing::read_text(journal), kept);
  // Values are compared, not their spelling: 0.02 is 2e-2, --seed 1 the default.
  auto spelled = json_sweep("1,2");
  spelled[12] = "0.02";  // --target-rel
  spelled.insert(spelled.end(), {"--seed", "1", "--resume", journal.string()});
  const CliResult same = run_cli(spelled);
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(json::parse(lines_of(same.out).back())["resumed_points"], 4);
  // Other data with the same name: refused by the data's hash (a given f* hides nothing).
  const fs::path data = dir.path() / "d.svm";
  localsgd::testing::write_text(data, "1 1:1\n-1 2:1\n1 1:0.5 2:0.2\n-1 1:-1\n");
  const std::vector<std::string> on_file = {"sweep",
                                            "--plugin",
                                            "logreg",
                                            "--data",
                                            data.string(),
                                            "-K",
                                            "1",
                                            "-H",
                                            "1",
                                            "--target",
                                            "0.5",
                                            "--fstar",
                                            "0.3",
                                            "--repeats",
                                            "1",
                                            "--format",
                                            "json",
                                            "--out",
                                            (dir.path() / "d.jsonl").string()};
  ASSERT_EQ(run_cli(on_file).exit_code, 0);
  localsgd::testing::write_text(data, "1 1:1\n-1 2:1\n1 1:0.5 2:0.3\n-1 1:-1\n");
  auto again_on_file = on_file;
  again_on_file.insert(again_on_file.end(), {"--resume", (dir.path() / "d.jsonl").string()});
  const CliResult changed = run_cli(again_on_file);
  EXPECT_EQ(changed.exit_code, kExitUsage);
  EXPECT_NE(changed.err.find(": data.hash is "), std::string::npos) << changed.err;
  // A table in place of the stream --resume reads would end it: refused.
  auto table_out = json_sweep("1,2");
  table_out.resize(table_out.size() - 2);  // --format json
  table_out.insert(table_out.end(), {"--resume", journal.string(), "--out", journal.string()});
  const CliResult as_table = run_cli(table_out);
  EXPECT_EQ(as_table.exit_code, kExitUsage);
  EXPECT_NE(as_table.err.find("is the stream --resume reads"), std::string::npos) << as_table.err;
  EXPECT_EQ(localsgd::testing::read_text(journal), kept);
  // Neither a directory nor a FIFO is read (no hang), and a grid value given twice is
  // refused before a stream that --resume could not take is written.
  auto from_dir = json_sweep("1,2");
  from_dir.insert(from_dir.end(), {"--resume", dir.path().string()});
  const CliResult directory = run_cli(from_dir);
  EXPECT_EQ(directory.exit_code, localsgd::kExitData);
  EXPECT_NE(directory.err.find("is a directory, expected the JSON stream of a sweep to resume"),
            std::string::npos)
      << directory.err;
  const CliResult twice_k = run_cli(json_sweep("1,1,2"));
  EXPECT_EQ(twice_k.exit_code, kExitUsage);
  EXPECT_NE(twice_k.err.find("--workers 1 is given twice"), std::string::npos) << twice_k.err;

  // A table is not a stream to resume: the file and line are named.
  const fs::path table = dir.path() / "table.txt";
  localsgd::testing::write_text(table, "     workers  local_steps\n");
  auto from_table = json_sweep("1,2");
  from_table.insert(from_table.end(), {"--resume", table.string()});
  const CliResult bad = run_cli(from_table);
  EXPECT_EQ(bad.exit_code, localsgd::kExitData);
  EXPECT_NE(bad.err.find(table.string() + ":1: not a JSON event (--resume reads what `sweep "
                                          "--format json` wrote)"),
            std::string::npos)
      << bad.err;
}
