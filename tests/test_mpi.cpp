// --backend mpi under mpirun (Open MPI): the same model as the threads backend, for
// every rank count and schedule; failures that stop every rank together; a killed rank
// that ends the job; checkpoints that resume on any number of ranks, and a signal to one
// rank that stops all. Each test starts mpirun (about a second per run).
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/sdk.hpp"
#include "test_support.hpp"

namespace localsgd::testing {
namespace {

using nlohmann::json;

// mpirun as root in a container, more ranks than cores, TBB threads unpinned.
// Under the asan preset, leak detection is off for the ranks: Open MPI's components are
// shared objects it unloads at MPI_Finalize, so LeakSanitizer sees their allocations as
// leaks of "<unknown module>" that no suppression can name (ASan's other checks stay on).
const char* const kMpiEnv =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
    "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\"";

#define REQUIRE_MPIRUN()                                                          \
  do {                                                                            \
    if (std::system("command -v mpirun >/dev/null 2>&1") != 0) {                  \
      if (running_in_ci()) FAIL() << "mpirun is missing (.ci/setup installs it)"; \
      GTEST_SKIP() << "mpirun is missing";                                        \
    }                                                                             \
  } while (false)

CliResult mpirun(int ranks, std::vector<std::string> args) {
  std::vector<std::string> all = {"-np",  std::to_string(ranks), "--oversubscribe", "--bind-to",
                                  "none", LOCALSGD_CLI};
  all.insert(all.end(), args.begin(), args.end());
  all.insert(all.end(), {"--backend", "mpi"});
  return run_cli(all, kMpiEnv, "mpirun");
}

std::vector<double> model(const fs::path& file) {
  return core::load_model(file).coefficients;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    scale = std::max(scale, std::abs(a[i]));
    diff = std::max(diff, std::abs(a[i] - b[i]));
  }
  return diff / std::max(scale, 1e-300);
}

struct Case {
  const char* name;
  std::vector<std::string> args;
};

class SameModelAsThreads : public ::testing::TestWithParam<Case> {};

TEST_P(SameModelAsThreads, ForOneToFourRanks) {
  REQUIRE_MPIRUN();
  TempDir dir;
  std::vector<std::string> base = {"train",  "--plugin",       "logreg", "--reader-param",
                                   "n=3000", "--reader-param", "d=50",   "-K",
                                   "4",      "--epochs",       "3",      "-q"};
  base.insert(base.end(), GetParam().args.begin(), GetParam().args.end());
  auto threads = base;
  threads.insert(threads.end(), {"--out", (dir.path() / "threads").string()});
  const CliResult t = run_cli(threads);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::vector<double> reference = model(dir.path() / "threads");
  for (const int ranks : {1, 2, 3, 4}) {  // 3 ranks: 1, 1 and 2 of the K = 4 workers
    SCOPED_TRACE(ranks);
    auto args = base;
    const fs::path out = dir.path() / ("mpi" + std::to_string(ranks));
    args.insert(args.end(), {"--out", out.string()});
    const CliResult m = mpirun(ranks, args);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(m.out, "");  // -q, and the other ranks are silent
    EXPECT_LE(max_relative_difference(model(out), reference), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Mpi, SameModelAsThreads,
    ::testing::Values(
        Case{"constant", {"-H", "4", "--lr", "constant", "--lr-param", "eta=0.5"}},
        Case{"default_rule", {}},
        Case{"hierarchical",
             {"--schedule", "hierarchical", "--schedule-param", "group=2", "--lr", "constant",
              "--lr-param", "eta=0.5"}},
        Case{"outer_nesterov",
             {"--schedule", "outer-nesterov", "--lr", "constant", "--lr-param", "eta=0.5"}},
        Case{"iid_paper", {"--sampling", "iid", "--lr", "paper"}},
        // Each rank keeps only its workers' rows after set-up.
        Case{"contiguous_rows_spread",
             {"--partition", "contiguous", "--lr", "constant", "--lr-param", "eta=0.5"}},
        Case{"shard_default_rule", {"--partition", "shard"}},
        // adacomm adapts H to f: with rows spread, f is the ranks' sum.
        Case{"adacomm_contiguous", {"--schedule", "adacomm", "--partition", "contiguous"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Mpi, RankZeroPrintsTheSummaryWithTheExchangeTime) {
  REQUIRE_MPIRUN();
  const CliResult m = mpirun(2, {"train", "--plugin", "logreg", "--reader-param", "n=2000",
                                 "--epochs", "2", "--format", "json"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const std::string line = last_line(m.out);
  EXPECT_EQ(m.out, line + "\n");  // one summary: rank 1 is silent
  const json s = json::parse(line);
  EXPECT_EQ(s["backend"], "mpi");
  EXPECT_EQ(s["ranks"], 2);
  EXPECT_GT(s["exchange_seconds"].get<double>(), 0.0);
}

// Hierarchical groups of 2 of K = 4 workers: with 2 ranks each group lives in one rank and
// only the global averages cross ranks; with 4 ranks every sync does.
TEST(Mpi, HierarchicalGroupsWithinARankExchangeNothing) {
  REQUIRE_MPIRUN();
  const std::vector<std::string> args = {"train",
                                         "--plugin",
                                         "logreg",
                                         "--reader-param",
                                         "n=3000",
                                         "-K",
                                         "4",
                                         "--epochs",
                                         "3",
                                         "--schedule",
                                         "hierarchical",
                                         "--schedule-param",
                                         "group=2",
                                         "--schedule-param",
                                         "H1=4",
                                         "--schedule-param",
                                         "H2=16",
                                         "--lr",
                                         "constant",
                                         "--lr-param",
                                         "eta=0.5",
                                         "--format",
                                         "json"};
  const CliResult two = mpirun(2, args);
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const json s2 = json::parse(last_line(two.out));
  const std::int64_t T = s2["steps"].get<std::int64_t>();
  const std::int64_t rounds = s2["rounds"].get<std::int64_t>();
  ASSERT_EQ(rounds, (T - 1) / 4 + 1);  // every H1 = 4 steps, and the final average at T
  // The global averages: every H2 = 16 steps, and the final one (T is not a multiple).
  ASSERT_NE(T % 16, 0);
  EXPECT_EQ(s2["inter_rank_rounds"].get<std::int64_t>(), T / 16 + 1);
  const CliResult four = mpirun(4, args);
  ASSERT_EQ(four.exit_code, 0) << four.err;
  const json s4 = json::parse(last_line(four.out));
  EXPECT_EQ(s4["inter_rank_rounds"].get<std::int64_t>(), rounds);
  EXPECT_EQ(s4["objective"], s2["objective"]);
}

// Runs `localsgd ARGS` on each of `ranks` ranks in its own directory r<RANK> under `dir`,
// each writing its exit code to r<RANK>/exit.
CliResult mpirun_in_rank_directories(int ranks, const fs::path& dir,
                                     const std::vector<std::string>& args) {
  for (int r = 0; r < ranks; ++r) fs::create_directories(dir / ("r" + std::to_string(r)));
  std::string command =
      "cd " + shell_quote(dir.string()) + "/r$OMPI_COMM_WORLD_RANK && " + shell_quote(LOCALSGD_CLI);
  for (const std::string& a : args) command += " " + shell_quote(a);
  command += " --backend mpi; echo $? > exit";
  return run_cli(
      {"-np", std::to_string(ranks), "--oversubscribe", "--bind-to", "none", "sh", "-c", command},
      kMpiEnv, "mpirun");
}

int rank_exit_code(const fs::path& dir, int rank) {
  return std::stoi(read_text(dir / ("r" + std::to_string(rank)) / "exit"));
}

TEST(Mpi, BadDataOnOneRankEndsEveryRankWithExitThree) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const CliResult m = mpirun_in_rank_directories(
      2, dir.path(),
      {"train", "--plugin", "logreg", "--reader",
       std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_hostile_reader.so", "--reader-param",
       "fault=value-huge", "--reader-param", "rank=1", "--steps", "100", "--out", "model"});
  EXPECT_EQ(rank_exit_code(dir.path(), 0), kExitData) << m.err;
  EXPECT_EQ(rank_exit_code(dir.path(), 1), kExitData) << m.err;
  EXPECT_NE(m.err.find("localsgd: error: rank 1 of 2: hostile(value-huge): row 3: feature value "
                       "1e+300"),
            std::string::npos)
      << m.err;
  EXPECT_EQ(m.err.find("localsgd: error:"), m.err.rfind("localsgd: error:")) << "printed twice";
  EXPECT_FALSE(fs::exists(dir.path() / "r0" / "model"));
}

// One path naming different data on different nodes (here: a directory per rank) would
// make the ranks disagree on T and wait for each other forever; instead every rank stops
// at set-up with exit 2, and rank 0 names the first difference. Options that differ (an
// MPMD launch) are caught alike.
TEST(Mpi, RanksThatWouldRunDifferentThingsStopAtSetUp) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [rank, rows] : {std::pair{0, 40}, std::pair{1, 30}}) {
    std::string text;
    for (int i = 0; i < rows; ++i)
      text += (i % 2 == 0 ? "+1 1:" : "-1 2:") + std::to_string(1 + i % 7) + " 3:0.5\n";
    fs::create_directories(dir.path() / ("r" + std::to_string(rank)));
    std::ofstream(dir.path() / ("r" + std::to_string(rank)) / "data.svm") << text;
  }
  const CliResult m = mpirun_in_rank_directories(
      2, dir.path(),
      {"train", "--plugin", "logreg", "--data", "data.svm", "--epochs", "1", "--out", "model"});
  EXPECT_EQ(rank_exit_code(dir.path(), 0), kExitUsage) << m.err;
  EXPECT_EQ(rank_exit_code(dir.path(), 1), kExitUsage) << m.err;
  const std::string said = "localsgd: error: the ranks would run different things: ";
  EXPECT_NE(m.err.find(said + "data.rows is 30 in rank 1 and 40 in rank 0 (every rank needs the "
                              "same data, plugins and options: a file at the same path on every "
                              "node)\n"),
            std::string::npos)
      << m.err;
  EXPECT_EQ(m.err.find("localsgd: error:"), m.err.rfind("localsgd: error:")) << "printed twice";
  EXPECT_FALSE(fs::exists(dir.path() / "r0" / "model"));

  const auto rank_args = [](const char* seed) {
    return std::vector<std::string>{"-np",       "1",       LOCALSGD_CLI, "train", "--plugin",
                                    "logreg",    "--steps", "100",        "--lr",  "constant",
                                    "--backend", "mpi",     "--seed",     seed};
  };
  std::vector<std::string> launch = {"--oversubscribe", "--bind-to", "none"};
  for (const auto& part : {rank_args("1"), std::vector<std::string>{":"}, rank_args("2")})
    launch.insert(launch.end(), part.begin(), part.end());
  const CliResult seeds = run_cli(launch, kMpiEnv, "mpirun");
  EXPECT_EQ(seeds.exit_code, kExitUsage) << seeds.err;
  EXPECT_NE(seeds.err.find(said + "seed is 2 in rank 1 and 1 in rank 0"), std::string::npos)
      << seeds.err;
  // A step size that differs past six digits, and checkpoints due at other steps (the
  // ranks would end their phases at different steps): these hung, or ran each rank
  // with its own step size.
  struct Mismatch {
    std::vector<std::string> rank0, rank1;
    std::string message;
  };
  for (const Mismatch& m : std::vector<Mismatch>{
           {{"--lr-param", "eta=0.5"},
            {"--lr-param", "eta=0.50000001"},
            "lr is \"constant(eta=0.50000001)\" in rank 1 and \"constant(eta=0.5)\" in rank 0"},
           {{"--checkpoint", (dir.path() / "c").string(), "--checkpoint-every", "50"},
            {"--checkpoint", (dir.path() / "c").string(), "--checkpoint-every", "30"},
            "checkpoint_every is 30 in rank 1 and 50 in rank 0"},
           {{"--checkpoint", (dir.path() / "c").string()},
            {},
            "saves_checkpoints is false in rank 1 and true in rank 0"},
       }) {
    std::vector<std::string> mpmd = {"--oversubscribe", "--bind-to", "none"};
    for (const auto* part :
         {&m.rank0, static_cast<const std::vector<std::string>*>(nullptr), &m.rank1}) {
      if (part == nullptr) {
        mpmd.push_back(":");
        continue;
      }
      const auto args = rank_args("1");
      mpmd.insert(mpmd.end(), args.begin(), args.end());
      mpmd.insert(mpmd.end(), part->begin(), part->end());
    }
    const CliResult r = run_cli(mpmd, kMpiEnv, "mpirun");
    EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
    EXPECT_NE(r.err.find(said + m.message + " (every rank needs"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.path() / "c"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(90));
}

// The same relative --resume path names a checkpoint per node: ranks that resumed from
// different ones would start at different steps (this hung after MPI_ERR_TRUNCATE).
// Every rank stops at set-up with exit 2 and rank 0 says where each file is.
TEST(Mpi, RanksResumingFromDifferentCheckpointsStopAtSetUp) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const std::vector<std::string> run = {"train",   "--plugin", "logreg", "-K",       "2",
                                        "--steps", "1000",     "--lr",   "constant", "-q"};
  for (const auto& [rank, every] : {std::pair{0, "300"}, std::pair{1, "400"}}) {
    const fs::path rank_dir = dir.path() / ("r" + std::to_string(rank));
    fs::create_directories(rank_dir);
    std::vector<std::string> save = run;
    save.insert(save.end(),
                {"--checkpoint", (rank_dir / "run.ckpt").string(), "--checkpoint-every", every});
    ASSERT_EQ(run_cli(save).exit_code, 0);
  }
  std::vector<std::string> resume = run;
  resume.insert(resume.end(), {"--resume", "run.ckpt", "--out", "model"});
  const CliResult m = mpirun_in_rank_directories(2, dir.path(), resume);
  EXPECT_EQ(rank_exit_code(dir.path(), 0), kExitUsage) << m.err;
  EXPECT_EQ(rank_exit_code(dir.path(), 1), kExitUsage) << m.err;
  const std::string said =
      "localsgd: error: the ranks would resume from different checkpoints: run.ckpt is at step "
      "800 (checksum ";
  EXPECT_NE(m.err.find(said), std::string::npos) << m.err;
  EXPECT_NE(m.err.find(") on rank 1 and run.ckpt is at step 900 (checksum "), std::string::npos)
      << m.err;
  EXPECT_EQ(m.err.find("localsgd: error:"), m.err.rfind("localsgd: error:")) << "printed twice";
  EXPECT_FALSE(fs::exists(dir.path() / "r0" / "model"));

  // The same file on both: the run resumes.
  fs::copy_file(dir.path() / "r0" / "run.ckpt", dir.path() / "r1" / "run.ckpt",
                fs::copy_options::overwrite_existing);
  const CliResult same = mpirun_in_rank_directories(2, dir.path(), resume);
  EXPECT_EQ(rank_exit_code(dir.path(), 0), 0) << same.err;
  EXPECT_NE(same.err.find("resuming from run.ckpt at step 900 of 1000"), std::string::npos)
      << same.err;
  EXPECT_TRUE(fs::exists(dir.path() / "r0" / "model"));
}

// Standard input reaches rank 0 alone: refused up front on every rank, not read as no
// rows on the others.
TEST(Mpi, StandardInputAsDataIsRefusedOnSeveralRanks) {
  REQUIRE_MPIRUN();
  const CliResult m = mpirun(2, {"train", "--plugin", "logreg", "--data", "-"});
  EXPECT_EQ(m.exit_code, kExitUsage) << m.err;
  const std::string line =
      "localsgd: error: --data - reads standard input, which mpirun gives to rank 0 alone: give "
      "a file every rank can read\n";
  ASSERT_NE(m.err.find(line), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find("localsgd:"), m.err.rfind("localsgd:")) << m.err;
}

// An error every rank meets at set-up is one line: the rank that exits first has mpirun
// send the others SIGTERM, which must not add "interrupted by SIGTERM" lines to it.
TEST(Mpi, AnErrorEveryRankMeetsIsOneLine) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const std::string missing = (dir.path() / "none.svm").string();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const CliResult m = mpirun(3, {"train", "--plugin", "logreg", "-K", "3", "--data", missing});
    EXPECT_EQ(m.exit_code, kExitData) << m.err;
    EXPECT_NE(m.err.find("localsgd: error: " + missing + ": cannot open"), std::string::npos)
        << m.err;
    EXPECT_EQ(m.err.find("localsgd:"), m.err.rfind("localsgd:")) << m.err;
  }
}

TEST(Mpi, RankZeroAloneWritesTheModel) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const CliResult m =
      mpirun_in_rank_directories(3, dir.path(),
                                 {"train", "--plugin", "logreg", "--reader-param", "n=2000",
                                  "--epochs", "2", "--out", "model", "-q"});
  for (int r = 0; r < 3; ++r) EXPECT_EQ(rank_exit_code(dir.path(), r), 0) << m.err;
  EXPECT_TRUE(fs::exists(dir.path() / "r0" / "model"));
  EXPECT_FALSE(fs::exists(dir.path() / "r1" / "model"));
  EXPECT_FALSE(fs::exists(dir.path() / "r2" / "model"));
  EXPECT_EQ(m.out, "");
}

TEST(Mpi, AFailureOnOneRankStopsEveryRankWithItsMessage) {
  REQUIRE_MPIRUN();
  const auto start = std::chrono::steady_clock::now();
  const CliResult m = mpirun(
      2, {"train", "--plugin", std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_throwing_objective.so",
          "--param", "rank=1", "--param", "after=50", "--reader-param", "n=2000", "--epochs", "50",
          "--lr", "constant", "--lr-param", "eta=0.1"});
  EXPECT_EQ(m.exit_code, kExitPlugin) << m.err;
  const std::string expected =
      "localsgd: error: rank 1 of 2: a plugin failed during training: fixture objective fails "
      "during training\n";
  EXPECT_NE(m.err.find(expected), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find("localsgd: error:"), m.err.rfind("localsgd: error:")) << "printed twice";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

json mpi_summary(int ranks, const std::vector<std::string>& args) {
  const CliResult m = mpirun(ranks, args);
  EXPECT_EQ(m.exit_code, 0) << m.err;
  return json::parse(last_line(m.out));
}

// Runs `args` on threads and on `ranks` MPI ranks, writing their models to DIR/threads
// and DIR/spread, and expects both to succeed with models equal to 1e-12 (relative).
// Returns the MPI run's result.
CliResult expect_model_of_threads(int ranks, const std::vector<std::string>& args,
                                  const fs::path& dir) {
  auto threads = args;
  threads.insert(threads.end(), {"--out", (dir / "threads").string()});
  const CliResult t = run_cli(threads);
  EXPECT_EQ(t.exit_code, 0) << t.err;
  auto spread = args;
  spread.insert(spread.end(), {"--out", (dir / "spread").string()});
  const CliResult m = mpirun(ranks, spread);
  EXPECT_EQ(m.exit_code, 0) << m.err;
  if (t.exit_code == 0 && m.exit_code == 0) {
    EXPECT_LE(max_relative_difference(model(dir / "spread"), model(dir / "threads")), 1e-12);
  }
  return m;
}

// With a partition, each rank holds its workers' rows alone during the run, and f, its
// gradient and the epochs are still the whole data's.
TEST(Mpi, APartitionLeavesEachRankOnlyItsWorkersRows) {
  REQUIRE_MPIRUN();
  const std::vector<std::string> base = {"train",    "--plugin",   "logreg", "--reader-param",
                                         "n=3000",   "-K",         "4",      "--epochs",
                                         "2",        "--format",   "json",   "--lr",
                                         "constant", "--lr-param", "eta=0.5"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> all = base;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  const CliResult t = run_cli(with({"--partition", "contiguous"}));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json threads = json::parse(last_line(t.out));
  const json spread = mpi_summary(2, with({"--partition", "contiguous"}));
  EXPECT_EQ(spread["rank_rows"], json::parse("[1500, 1500]"));
  EXPECT_EQ(spread["rows"], 3000);
  EXPECT_EQ(spread["epochs"], threads["epochs"]);
  EXPECT_NEAR(spread["objective"].get<double>(), threads["objective"].get<double>(),
              1e-12 * threads["objective"].get<double>());
  EXPECT_NEAR(spread["grad_norm"].get<double>(), threads["grad_norm"].get<double>(),
              1e-9 * threads["grad_norm"].get<double>());
  // Three ranks run 1, 1 and 2 of the 4 workers: 750, 750 and 1500 rows.
  EXPECT_EQ(mpi_summary(3, with({"--partition", "contiguous"}))["rank_rows"],
            json::parse("[750, 750, 1500]"));
  // Without a partition every worker samples all rows: every rank keeps them.
  EXPECT_EQ(mpi_summary(2, base)["rank_rows"], json::parse("[3000, 3000]"));
}

// Only rank 0 draws the progress bar and the plot, yet with rows spread every evaluation
// is an all-reduce: all ranks must evaluate at the same steps, the same way (this hung).
TEST(Mpi, RanksEvaluateTogetherWhenOnlyRankZeroPlotsOrDrawsTheBar) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const fs::path plot = dir.path() / "curve.svg";
  const std::vector<std::string> args = {
      "train",       "--plugin",    "logreg",     "--reader-param", "n=3000", "-K",
      "4",           "--partition", "contiguous", "--epochs",       "4",      "--lr",
      "constant",    "--lr-param",  "eta=0.5",    "--format",       "json",   "--plot",
      plot.string(), "--progress",  "always"};
  const CliResult t = run_cli(args);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json spread = mpi_summary(2, args);
  EXPECT_EQ(spread["rank_rows"], json::parse("[1500, 1500]"));
  EXPECT_TRUE(fs::exists(plot));
  const double f = json::parse(last_line(t.out))["objective"].get<double>();
  EXPECT_NEAR(spread["objective"].get<double>(), f, 1e-12 * f);
}

// A memory-mapped .bin file: a rank's consecutive rows are a view into the mapping (no
// copy), a shard's are copied; either way the model is the threads run's.
TEST(Mpi, BinaryFilesSpreadAsViewsOrCopies) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const fs::path data = dir.path() / "d.bin";
  const CliResult c = run_cli({"data", "convert", "--reader", "synthetic", "--reader-param",
                               "n=2000", "--reader-param", "d=30", data.string()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  for (const char* partition : {"contiguous", "shard"}) {
    SCOPED_TRACE(partition);
    const std::vector<std::string> args = {"train",       "--plugin", "logreg", "--data",
                                           data.string(), "-K",       "4",      "--partition",
                                           partition,     "--epochs", "3",      "-q"};
    expect_model_of_threads(3, args, dir.path());
  }
}

// A LIBSVM text file of `rows` rows of 5 features (columns 1 to 8) and +-1 labels.
fs::path write_text_problem(const TempDir& dir, int rows) {
  std::string text;
  std::uint64_t state = 777;
  auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int row = 0; row < rows; ++row) {
    double margin = 0;
    std::string features;
    for (int j = 1; j <= 8; ++j) {
      if (j > 5 && (next() >> 62) != 0) continue;
      const double v = static_cast<double>(next() >> 40) / 16777216.0 - 0.5 + 0.1 * j;
      margin += (j % 2 == 0 ? 1.0 : -0.7) * v;
      features += " " + std::to_string(j) + ":" + std::to_string(v);
    }
    const bool flip = (next() >> 60) == 0;  // 1 in 16 labels is noise
    text += ((margin > 0) != flip ? "+1" : "-1") + features + "\n";
  }
  return dir.write("rows.svm", text);
}

// Each rank of `summary` read the features of the rows it holds and of the first 64 rows
// only (the rows every rank reads).
void expect_read_own_and_common_rows(const json& summary) {
  ASSERT_EQ(summary["rank_rows_read"].size(), summary["rank_rows"].size());
  for (std::size_t r = 0; r < summary["rank_rows"].size(); ++r) {
    const auto held = summary["rank_rows"][r].get<std::int64_t>();
    const auto read = summary["rank_rows_read"][r].get<std::int64_t>();
    EXPECT_GE(read, held) << "rank " << r;
    EXPECT_LE(read, held + 64) << "rank " << r;
  }
}

// With --partition contiguous or shard, a rank reads the features of its workers' rows
// from a text file, of the rows the set-up reads (the default step size's probe sample and
// whitening rows) and of the first 64 rows (every rank's, to compare their objectives), no
// others: the labels of all. The set-up is the threads run's, bit
// for bit (the same step size), and so is the model, to 1e-12.
TEST(Mpi, ARankReadsTheFeaturesOfItsRowsAndOfTheSetUpsOnly) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const fs::path data = write_text_problem(dir, 3000);
  for (const char* partition : {"contiguous", "shard", "label-skew"}) {
    SCOPED_TRACE(partition);
    const bool even = std::string(partition) != "label-skew";  // it deals rows by label
    const std::vector<std::string> args = {
        "train",   "--plugin",    "logreg",   "--data",   data.string(), "-K",       "4",
        "-H",      "4",           "--epochs", "3",        "--lr",        "constant", "--lr-param",
        "eta=0.5", "--partition", partition,  "--format", "json"};
    for (const int ranks : {2, 3}) {
      SCOPED_TRACE(std::to_string(ranks) + " ranks");
      const json spread =
          json::parse(last_line(expect_model_of_threads(ranks, args, dir.path()).out));
      // A constant step needs no set-up rows: each rank read the rows it holds, and the
      // first 64 rows, which every rank reads.
      expect_read_own_and_common_rows(spread);
      if (even) {
        EXPECT_EQ(spread["rank_rows"],
                  ranks == 2 ? json::parse("[1500, 1500]") : json::parse("[750, 750, 1500]"));
      }
      std::int64_t held = 0;
      for (const json& rows : spread["rank_rows"]) held += rows.get<std::int64_t>();
      EXPECT_EQ(held, 3000);
      EXPECT_EQ(spread["rows"], 3000);
    }
  }
  // A CSV file too.
  const fs::path csv = dir.path() / "rows.csv";
  ASSERT_EQ(run_cli({"data", "convert", data.string(), csv.string()}).exit_code, 0);
  const std::vector<std::string> from_csv = {
      "train",   "--plugin",    "logreg", "--data",   csv.string(), "-K",
      "4",       "--epochs",    "3",      "--lr",     "constant",   "--lr-param",
      "eta=0.5", "--partition", "shard",  "--format", "json"};
  const json csv_spread =
      json::parse(last_line(expect_model_of_threads(2, from_csv, dir.path()).out));
  expect_read_own_and_common_rows(csv_spread);
  // The default step probes a sample of 2048 rows (of 40000, here) and whitens from rows
  // spread evenly; each rank reads those too, and chooses the threads run's step.
  const fs::path large = write_text_problem(dir, 40000);
  for (const char* partition : {"contiguous", "shard"}) {
    SCOPED_TRACE(partition);
    const std::vector<std::string> args = {
        "train",   "--plugin", "logreg",      "--data",  large.string(), "-K",  "4",
        "--steps", "3000",     "--partition", partition, "--format",     "json"};
    const CliResult t = run_cli(args);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    const json spread = json::parse(last_line(expect_model_of_threads(2, args, dir.path()).out));
    EXPECT_EQ(spread["lr"], json::parse(last_line(t.out))["lr"]);
    EXPECT_EQ(spread["rank_rows"], json::parse("[20000, 20000]"));
    for (const json& read : spread["rank_rows_read"]) {
      EXPECT_GT(read.get<std::int64_t>(), 20000);
      EXPECT_LT(read.get<std::int64_t>(), 40000);
    }
  }
}

// A rank checks every line of the file, also of rows it does not keep: an error anywhere
// stops every rank with the threads run's message (file, line, column) and exit 3.
TEST(Mpi, ARankThatReadsSomeRowsStillChecksEveryLine) {
  REQUIRE_MPIRUN();
  TempDir dir;
  std::string text = read_text(write_text_problem(dir, 1000));
  text += "+1 4:0.5 2:0.25\n";  // line 1001: indices not ascending
  const fs::path bad = dir.write("bad.svm", text);
  const std::vector<std::string> args = {
      "train",       "--plugin",   "logreg", "--data",   bad.string(), "-K",     "2",
      "--partition", "contiguous", "--lr",   "constant", "--lr-param", "eta=0.5"};
  const CliResult t = run_cli(args);
  ASSERT_EQ(t.exit_code, kExitData) << t.err;
  const CliResult m = mpirun(2, args);
  EXPECT_EQ(m.exit_code, kExitData) << m.err;
  EXPECT_NE(m.err.find(bad.string() + ":1001:"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find(t.err.substr(0, t.err.find('\n'))), std::string::npos) << t.err << m.err;
}

// Objectives that break the SDK contract, on ranks that read only their rows: one takes
// lambda = 1/n of the rows it is built on, the other scales its loss by their largest
// value (here in row 10, among the rows every rank reads). Each rank's objective would be
// another function than the threads run's: the ranks notice, read every row and keep them
// all, with a warning, and the model is the threads run's.
TEST(Mpi, RanksThatReadTheirRowsReadEveryRowForAnObjectiveThatBreaksTheContract) {
  REQUIRE_MPIRUN();
  TempDir dir;
  std::string text = read_text(write_text_problem(dir, 2000));
  std::size_t line = 0;
  for (int i = 0; i < 10; ++i) line = text.find('\n', line) + 1;
  text.insert(text.find('\n', line), " 9:5");  // row 10's largest value
  const fs::path data = dir.write("scaled.svm", text);
  for (const char* fixture : {"fixture_unrecorded_lambda", "fixture_data_scaled"}) {
    SCOPED_TRACE(fixture);
    const std::vector<std::string> args = {
        "train",    "--plugin",    std::string(LOCALSGD_FIXTURE_DIR) + "/" + fixture + ".so",
        "--data",   data.string(), "-K",
        "4",        "--partition", "contiguous",
        "--epochs", "2",           "--lr",
        "constant", "--lr-param",  "eta=0.05",
        "--format", "json"};
    const CliResult m = expect_model_of_threads(2, args, dir.path());
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(json::parse(last_line(m.out))["rank_rows"], json::parse("[2000, 2000]"));
    EXPECT_NE(m.err.find("localsgd: warning: objective plugin '" + std::string(fixture) +
                         "' is another function on the ranks' rows"),
              std::string::npos)
        << m.err;
  }
}

// A model too large for the machine is refused before a rank that reads only its rows
// allocates anything of its size (the check of the objective did, 17 GB a rank).
TEST(Mpi, RanksThatReadTheirRowsRefuseAModelTooLargeFirst) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const fs::path data =
      dir.write("wide.svm", read_text(write_text_problem(dir, 300)) + "1 2147483647:1\n");
  const std::vector<std::string> args = {"train",       "--plugin",    "logreg",    "--data",
                                         data.string(), "-K",          "4",         "--lr",
                                         "constant",    "--lr-param",  "eta=0.1",   "--steps",
                                         "10",          "--partition", "contiguous"};
  const CliResult t = run_cli(args);
  ASSERT_EQ(t.exit_code, 2) << t.err;
  const auto start = std::chrono::steady_clock::now();
  const CliResult m = mpirun(2, args);
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_NE(m.err.find("this machine's"), std::string::npos) << m.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// An objective that takes lambda = 1/n from its data without recording it would be
// another function on a rank's rows: the ranks notice (f at a test point differs) and
// keep every row, with a warning, and the model is still the threads run's.
TEST(Mpi, AnObjectiveThatHidesItsDataDependenceKeepsEveryRow) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const std::vector<std::string> args = {
      "train",
      "--plugin",
      std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_unrecorded_lambda.so",
      "--reader-param",
      "n=1000",
      "--reader-param",
      "task=regression",
      "-K",
      "4",
      "--partition",
      "contiguous",
      "--epochs",
      "3",
      "--lr",
      "constant",
      "--lr-param",
      "eta=0.05",
      "--format",
      "json"};
  const CliResult m = expect_model_of_threads(2, args, dir.path());
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_EQ(json::parse(last_line(m.out))["rank_rows"], json::parse("[1000, 1000]"));
  EXPECT_NE(m.err.find("localsgd: warning: objective plugin 'fixture_unrecorded_lambda' is "
                       "another function on the ranks' rows than on the whole data"),
            std::string::npos)
      << m.err;
}

// Sorted by label, a contiguous partition gives each of three ranks one class: the
// objective's classes (and lambda = 1/n) are still those of the whole file.
TEST(Mpi, ARankThatSeesOneClassKeepsTheWholeDataClasses) {
  REQUIRE_MPIRUN();
  TempDir dir;
  std::string text;
  for (int c = 1; c <= 3; ++c)
    for (int i = 0; i < 40; ++i)
      text += std::to_string(c) + " 1:" + std::to_string(0.1 * c + 0.01 * (i % 7)) + " " +
              std::to_string(2 + i % 3) + ":" + std::to_string(0.05 * (i % 5) - 0.1 * c) + "\n";
  const fs::path data = dir.path() / "sorted.svm";
  write_text(data, text);
  const std::vector<std::string> args = {"train",       "--plugin",   "softmax", "--data",
                                         data.string(), "-K",         "3",       "--partition",
                                         "contiguous",  "--epochs",   "20",      "--lr",
                                         "constant",    "--lr-param", "eta=0.5", "-q"};
  ASSERT_EQ(expect_model_of_threads(3, args, dir.path()).exit_code, 0);
  const core::Model spread = core::load_model(dir.path() / "spread");
  EXPECT_EQ(spread.params.at("classes"), "1,2,3");
  EXPECT_EQ(spread.params.at("lambda"), localsgd::format_number(1.0 / 120));
}

// Rank 1 fails in the evaluation of f over its rows (after its 10 training batches): the
// processes' parts are summed with a failure count, so every rank stops with its message.
TEST(Mpi, AFailedEvaluationOnOneRankStopsEveryRank) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const CliResult m = mpirun_in_rank_directories(
      2, dir.path(),
      {"train", "--plugin", std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_throwing_objective.so",
       "--param", "rank=1", "--param", "after=10", "--reader-param", "n=2000", "--steps", "10",
       "-K", "2", "--partition", "contiguous", "--lr", "constant", "--lr-param", "eta=0.1"});
  EXPECT_EQ(rank_exit_code(dir.path(), 0), kExitPlugin) << m.err;
  EXPECT_EQ(rank_exit_code(dir.path(), 1), kExitPlugin) << m.err;
  EXPECT_NE(m.err.find("localsgd: error: rank 1 of 2: objective plugin 'throwing_objective' "
                       "failed in the evaluation of f: fixture objective fails during training\n"),
            std::string::npos)
      << m.err;
  EXPECT_EQ(m.err.find("localsgd: error:"), m.err.rfind("localsgd: error:")) << "printed twice";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// Set-up work each rank does alone (the default rule's probes, f* for a target) fails on
// rank 1 only: every rank stops with its message (this hung).
TEST(Mpi, AFailureDuringSetUpOnOneRankStopsEveryRank) {
  REQUIRE_MPIRUN();
  for (const std::vector<std::string>& rule :
       {std::vector<std::string>{},  // the default rule probes
        std::vector<std::string>{"--lr", "constant", "--lr-param", "eta=0.1", "--target-rel",
                                 "0.1"}}) {  // f* is solved
    std::vector<std::string> args = {
        "train",
        "--plugin",
        std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_throwing_objective.so",
        "--param",
        "rank=1",
        "--param",
        "after=0",
        "--reader-param",
        "n=500",
        "-K",
        "2",
        "--steps",
        "200"};
    args.insert(args.end(), rule.begin(), rule.end());
    const auto start = std::chrono::steady_clock::now();
    const CliResult m = mpirun(2, args);
    EXPECT_EQ(m.exit_code, kExitPlugin) << m.err;
    EXPECT_NE(m.err.find("localsgd: error: rank 1 of 2: "), std::string::npos) << m.err;
    EXPECT_EQ(m.err.find("localsgd: error:"), m.err.rfind("localsgd: error:")) << m.err;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  }
}

// A usage error comes before MPI starts; rank 0 alone says it.
TEST(Mpi, AUsageErrorIsPrintedOnce) {
  REQUIRE_MPIRUN();
  const CliResult m = mpirun(3, {"train", "--plugin", "logreg", "-K", "4", "--partition", "bogus"});
  EXPECT_EQ(m.exit_code, kExitUsage) << m.err;
  const std::string line = "localsgd: error: --partition: unknown partition 'bogus'";
  ASSERT_NE(m.err.find(line), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find(line), m.err.rfind(line)) << m.err;
}

// mpirun of two programs, rank 0's arguments and rank 1's (each rank with --backend mpi),
// ended by `timeout` after a minute: a job that hangs fails the test with exit 124.
CliResult mpmd_within_a_minute(const std::vector<std::string>& rank0,
                               const std::vector<std::string>& rank1) {
  std::vector<std::string> launch = {"60", "mpirun", "--oversubscribe", "--bind-to", "none"};
  for (int rank = 0; rank < 2; ++rank) {
    const std::vector<std::string>& args = rank == 0 ? rank0 : rank1;
    if (rank == 1) launch.push_back(":");
    launch.insert(launch.end(), {"-np", "1", LOCALSGD_CLI});
    launch.insert(launch.end(), args.begin(), args.end());
    launch.insert(launch.end(), {"--backend", "mpi"});
  }
  return run_cli(launch, kMpiEnv, "timeout");
}

// What one rank alone meets before the ranks compare their runs (its options refused,
// its standard input, its output files) stops every rank with one line naming that rank:
// these hung, the other rank waiting in its first exchange.
TEST(Mpi, AnErrorOneRankMeetsAtSetUpStopsEveryRank) {
  REQUIRE_MPIRUN();
  const std::vector<std::string> run = {"train", "--plugin", "logreg", "-q"};
  const auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), run.begin(), run.end());
    return more;
  };
  struct OneRank {
    std::vector<std::string> rank0, rank1;
    int exit_code;
    std::string line;
  };
  for (const OneRank& c : std::vector<OneRank>{
           {with({"-K", "2", "--steps", "50"}), with({"-K", "2", "--steps", "0"}), kExitUsage,
            "localsgd: error: rank 1 of 2: --steps must be at least 1\n"},
           {with({"-K", "4", "--steps", "50"}), with({"-K", "1", "--steps", "50"}), kExitUsage,
            "localsgd: error: rank 1 of 2: --backend mpi needs a worker on every rank: K = 1 on "
            "2 ranks (use -K 2 or more, or fewer ranks)\n"},
           {with({"-K", "2", "--steps", "50"}), with({"-K", "2", "--steps", "50", "--data", "-"}),
            kExitUsage,
            "localsgd: error: rank 1 of 2: --data - reads standard input, which mpirun gives to "
            "rank 0 alone: give a file every rank can read\n"},
       }) {
    const CliResult r = mpmd_within_a_minute(c.rank0, c.rank1);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_NE(r.err.find(c.line), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("localsgd:"), r.err.rfind("localsgd:")) << r.err;
  }
}

// The plot is rank 0's: its file is checked with the model's and the checkpoint's before
// the run, agreed by every rank (this hung: rank 0 alone failed), and a gnuplot that fails
// at the end of the run stops every rank too.
TEST(Mpi, APlotThatCannotBeDrawnStopsEveryRank) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const std::string plot = (dir.path() / "none" / "curve.svg").string();
  const std::vector<std::string> run = {"train", "--plugin", "logreg", "-K",
                                        "2",     "--steps",  "50",     "-q"};
  auto unwritable = run;
  unwritable.insert(unwritable.end(), {"--plot", plot});
  const CliResult r = mpmd_within_a_minute(unwritable, unwritable);
  EXPECT_EQ(r.exit_code, kExitData) << r.err;
  EXPECT_NE(r.err.find("localsgd: error: " + plot + ": cannot write: directory " +
                       (dir.path() / "none").string() + " does not exist\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("localsgd:"), r.err.rfind("localsgd:")) << r.err;

  // A gnuplot that exits with an error, first on the ranks' PATH.
  fs::create_directories(dir.path() / "bin");
  std::ofstream(dir.path() / "bin" / "gnuplot") << "#!/bin/sh\nexit 1\n";
  fs::permissions(dir.path() / "bin" / "gnuplot", fs::perms::owner_all);
  const std::string svg = (dir.path() / "curve.svg").string();
  std::string ranks = std::string(LOCALSGD_CLI) +
                      " train --plugin logreg -K 2 --steps 50 -q --plot " + svg + " --backend mpi";
  const CliResult failing =
      run_cli({"60", "mpirun", "--oversubscribe", "--bind-to", "none", "-np", "2", "sh", "-c",
               "PATH=" + (dir.path() / "bin").string() + ":$PATH exec " + ranks},
              kMpiEnv, "timeout");
  EXPECT_EQ(failing.exit_code, kExitRuntime) << failing.err;
  EXPECT_NE(failing.err.find("localsgd: error: gnuplot failed to draw " + svg + "\n"),
            std::string::npos)
      << failing.err;
  EXPECT_FALSE(fs::exists(svg));
}

// A command line that fails to parse is refused by every rank before MPI starts: the first
// rank says so at once; the others wait before they speak, so that mpirun, which ends the
// job when one rank fails, does not kill rank 0 before its line is out (12 runs of 20 said
// nothing). A rank whose command line alone is wrong says so, naming its rank.
TEST(Mpi, ACommandLineErrorIsOneLineFromTheRankThatMetIt) {
  REQUIRE_MPIRUN();
  for (int attempt = 0; attempt < 4; ++attempt) {
    const CliResult m = run_cli({"60", "mpirun", "--oversubscribe", "--bind-to", "none", "-np", "3",
                                 LOCALSGD_CLI, "train", "--plugin", "logreg", "--bogus"},
                                kMpiEnv, "timeout");
    EXPECT_EQ(m.exit_code, kExitUsage) << m.err;
    EXPECT_NE(m.err.find("localsgd: error: The following argument was not expected: --bogus"),
              std::string::npos)
        << m.err;
    EXPECT_EQ(m.err.find("localsgd:"), m.err.rfind("localsgd:")) << m.err;
  }
  const std::vector<std::string> run = {"train", "--plugin", "logreg", "-K", "2", "--steps", "50"};
  auto bogus = run;
  bogus.insert(bogus.end(), {"--lr", "bogus"});
  const CliResult one = mpmd_within_a_minute(run, bogus);
  EXPECT_EQ(one.exit_code, kExitUsage) << one.err;
  EXPECT_NE(one.err.find("localsgd: error: rank 1: --lr: unknown step size rule 'bogus'"),
            std::string::npos)
      << one.err;
}

// mpirun merges the ranks' standard output: the config is printed once, so that it reads
// back with --config.
TEST(Mpi, PrintConfigPrintsOnce) {
  REQUIRE_MPIRUN();
  const CliResult m = mpirun(2, {"train", "--plugin", "logreg", "-K", "2", "--print-config"});
  EXPECT_EQ(m.exit_code, kExitOk) << m.err;
  EXPECT_EQ(m.out.find("[train]"), 0u) << m.out;
  EXPECT_EQ(m.out.find("[train]"), m.out.rfind("[train]")) << m.out;
}

// Divergence follows from values every rank has alike (the average of all workers, an
// evaluation of f): every rank stops at the same step and rank 0 alone says so, as the
// threads backend does (each rank printed its own line and called MPI_Abort).
TEST(Mpi, ADivergingRunIsOneLineFromRankZero) {
  REQUIRE_MPIRUN();
  const std::vector<std::string> run = {"train", "--plugin", "ridge", "--steps",   "2000",
                                        "--lr",  "constant", "-q",    "--lr-param"};
  for (const int ranks : {2, 3}) {
    auto average = run;
    average.insert(average.end(), {"eta=3000", "-H", "500", "-K", std::to_string(ranks)});
    const CliResult m = mpirun(ranks, average);
    EXPECT_EQ(m.exit_code, kExitRuntime) << m.err;
    EXPECT_NE(m.err.find("localsgd: error: diverged: the average has non-finite entries; lower "
                         "the step size (--lr, --lr-param); try --lr-param eta=300\n"),
              std::string::npos)
        << m.err;
    EXPECT_EQ(m.err.find("localsgd:"), m.err.rfind("localsgd:")) << m.err;
    EXPECT_EQ(m.err.find("MPI_ABORT"), std::string::npos) << m.err;
  }
  auto early = run;
  early.insert(early.end(), {"eta=100", "--eval-every", "50", "-K", "2"});
  const CliResult m = mpirun(2, early);
  EXPECT_EQ(m.exit_code, kExitRuntime) << m.err;
  EXPECT_NE(m.err.find("localsgd: error: diverging at step 50: "), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find("localsgd:"), m.err.rfind("localsgd:")) << m.err;
  EXPECT_EQ(m.err.find("MPI_ABORT"), std::string::npos) << m.err;
}

// Each rank solves for f* (the same solve), but only rank 0 says so (the others are
// silent unless --verbose); each test's cache of its own, so the solve runs.
TEST(Mpi, OnlyRankZeroSaysItSolvedForFstar) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const CliResult m =
      run_cli({"-np", "2", "--oversubscribe", "--bind-to", "none", "-x", "XDG_CACHE_HOME",
               LOCALSGD_CLI, "train", "--plugin", "logreg", "--target-rel", "0.01", "--progress",
               "never", "--backend", "mpi"},
              std::string(kMpiEnv) + " XDG_CACHE_HOME=" + dir.path().string(), "mpirun");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const std::string line = "localsgd: computed f* = ";
  ASSERT_NE(m.err.find(line), std::string::npos) << m.err;
  EXPECT_EQ(m.err.find(line), m.err.rfind(line)) << m.err;
}

TEST(Mpi, AKilledRankEndsTheJobWithinSeconds) {
  REQUIRE_MPIRUN();
  TempDir dir;
  // Rank 1 kills itself a second into a run that would take minutes.
  const fs::path script = dir.write("rank.sh",
                                    "#!/bin/sh\n"
                                    "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then\n"
                                    "  (sleep 1; kill -9 $$) &\n"
                                    "fi\n"
                                    "exec \"$@\"\n");
  fs::permissions(script, fs::perms::owner_all);
  const auto start = std::chrono::steady_clock::now();
  const CliResult m = run_cli({"-np",
                               "2",
                               "--oversubscribe",
                               "--bind-to",
                               "none",
                               script.string(),
                               LOCALSGD_CLI,
                               "train",
                               "--plugin",
                               "logreg",
                               "--reader-param",
                               "n=20000",
                               "--steps",
                               "100000000",
                               "--lr",
                               "constant",
                               "--lr-param",
                               "eta=0.1",
                               "--backend",
                               "mpi",
                               "-q"},
                              kMpiEnv, "mpirun");
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  EXPECT_NE(m.exit_code, 0);
  EXPECT_LT(seconds.count(), 20.0) << m.err;
}

// A sparse LIBSVM problem of d = 6000 (above the sparse-sync threshold), 3 entries a row:
// the threads backend syncs only touched coordinates, the mpi backend in full.
fs::path write_sparse_problem(const TempDir& dir) {
  std::string text;
  std::uint64_t state = 12345;
  auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int row = 0; row < 400; ++row) {
    text += (next() >> 63) ? "+1" : "-1";
    const std::uint64_t first = 1 + (next() >> 33) % 1990;
    for (std::uint64_t j = 0; j < 3; ++j)
      text += " " + std::to_string(first + j * 2000) + ":" +
              std::to_string(static_cast<double>(next() >> 40) / 16777216.0);
    text += "\n";
  }
  return dir.write("sparse.svm", text);
}

// Sparse syncs over MPI: the ranks exchange the union of the coordinates their workers
// touched and one sum each, not d values; the model is the threads backend's to 1e-12.
TEST(Mpi, SparseSyncsExchangeOnlyTouchedCoordinates) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const std::vector<std::string> run = {
      "train",      "--plugin", "logreg",   "--data", write_sparse_problem(dir).string(),
      "-K",         "4",        "-H",       "4",      "--steps",
      "1000",       "-b",       "2",        "--lr",   "constant",
      "--lr-param", "eta=0.5",  "--format", "json"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = run;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  const CliResult t = run_cli(with({"--out", (dir.path() / "threads").string()}));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::vector<double> reference = model(dir.path() / "threads");
  for (const int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    const fs::path out = dir.path() / ("mpi" + std::to_string(ranks));
    const CliResult m = mpirun(ranks, with({"--out", out.string()}));
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_LE(max_relative_difference(model(out), reference), 1e-12);
    const json summary = json::parse(last_line(m.out));
    const auto rounds = summary["rounds"].get<std::int64_t>();
    const auto values = summary["exchanged_values"].get<std::int64_t>();
    EXPECT_EQ(rounds, 250);
    // 4 workers x 4 steps x 2 samples x 3 entries: at most 96 coordinates and an
    // intercept per sync, plus the dense end of the run (x̄ and x̂: 2 d) — against
    // 250 d = 1.5 M if every sync were dense.
    EXPECT_LE(values, 250 * 97 + 2 * 6000);
    EXPECT_GE(values, 250 * 2);
  }
}

struct CheckpointCase {
  const char* name;
  std::vector<std::string> args;  // the run, without --out, --checkpoint and --resume
  bool sparse_data = false;
};

class CheckpointsCrossRankLayouts : public ::testing::TestWithParam<CheckpointCase> {};

// One checkpoint (rank 0 writes all workers' state) resumes on any layout: the model is
// the uninterrupted run's to 1e-12, as between backends. The checkpoint falls between two
// syncs (step 1001 with H = 4), so workers' local progress must travel in it.
TEST_P(CheckpointsCrossRankLayouts, ResumedOnOtherRankCountsAndOnThreads) {
  REQUIRE_MPIRUN();
  TempDir dir;
  std::vector<std::string> run = {"train", "-K",   "4",        "--steps",    "1500",
                                  "-q",    "--lr", "constant", "--lr-param", "eta=0.5"};
  if (GetParam().sparse_data)
    run.insert(run.end(), {"--plugin", "logreg", "--data", write_sparse_problem(dir).string()});
  else
    run.insert(run.end(),
               {"--plugin", "logreg", "--reader-param", "n=3000", "--reader-param", "d=50"});
  run.insert(run.end(), GetParam().args.begin(), GetParam().args.end());
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = run;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  const fs::path full = dir.path() / "full.model";
  const CliResult t = run_cli(with({"--out", full.string()}));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::vector<double> reference = model(full);

  const std::string on_two = (dir.path() / "two.ckpt").string();
  const CliResult saving = mpirun(2, with({"--checkpoint", on_two, "--checkpoint-every", "1001",
                                           "--out", (dir.path() / "saving.model").string()}));
  ASSERT_EQ(saving.exit_code, 0) << saving.err;
  EXPECT_LE(max_relative_difference(model(dir.path() / "saving.model"), reference), 1e-12);
  const std::string on_threads = (dir.path() / "threads.ckpt").string();
  ASSERT_EQ(run_cli(with({"--checkpoint", on_threads, "--checkpoint-every", "1001"})).exit_code, 0);

  struct Resume {
    std::string checkpoint;
    int ranks;  // 0: the threads backend
  };
  for (const Resume& r :
       {Resume{on_two, 3}, Resume{on_two, 1}, Resume{on_two, 0}, Resume{on_threads, 2}}) {
    SCOPED_TRACE(r.checkpoint + " on " + std::to_string(r.ranks) + " ranks");
    const fs::path out = dir.path() / ("resumed" + std::to_string(r.ranks) + ".model");
    const auto args = with({"--resume", r.checkpoint, "--out", out.string()});
    const CliResult resumed = r.ranks == 0 ? run_cli(args) : mpirun(r.ranks, args);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.err.find("resuming from " + r.checkpoint + " at step 1001 of 1500"),
              std::string::npos)
        << resumed.err;
    EXPECT_LE(max_relative_difference(model(out), reference), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Mpi, CheckpointsCrossRankLayouts,
    ::testing::Values(CheckpointCase{"constant", {"-H", "4"}},
                      CheckpointCase{"hierarchical",
                                     {"--schedule", "hierarchical", "--schedule-param", "group=2",
                                      "--schedule-param", "H1=2", "--schedule-param", "H2=8"}},
                      CheckpointCase{"outer_nesterov",
                                     {"--schedule", "outer-nesterov", "--schedule-param", "H=4"}},
                      CheckpointCase{"sparse_syncs", {"-H", "4"}, true},
                      // Ranks that read their rows only (on 2 and 3 ranks) resume a whole
                      // read's checkpoint and write one it resumes: the data's hash is one.
                      CheckpointCase{
                          "rows_read_selectively", {"-H", "4", "--partition", "contiguous"}, true}),
    [](const auto& info) { return std::string(info.param.name); });

// SIGTERM to one rank only (as a scheduler might deliver it): the ranks vote on it at the
// next round end, so all stop at the same step, rank 0 writes the checkpoint and the model,
// every rank exits 143, and the run resumed (here on threads) ends with the model of the
// run never interrupted.
TEST(Mpi, ASignalToOneRankStopsAllWithACheckpointThatResumes) {
  REQUIRE_MPIRUN();
  TempDir dir;
  const std::vector<std::string> run = {
      "train", "--plugin", "logreg",  "--reader-param", "n=2000",   "-K",         "4",       "-H",
      "8",     "--steps",  "3000000", "--lr",           "constant", "--lr-param", "eta=0.5", "-q"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = run;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  const fs::path checkpoint = dir.path() / "run.ckpt";
  // Rank 1 signals its own localsgd once the first checkpoint exists (the run is then
  // past its set-up, where a signal ends a process at once).
  const fs::path script =
      dir.write("rank.sh",
                "#!/bin/sh\n"
                "\"$@\" &\n"
                "child=$!\n"
                "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then\n"
                "  while [ ! -f " +
                    shell_quote(checkpoint.string()) +
                    " ]; do sleep 0.05; done\n"
                    "  kill -TERM $child\n"
                    "fi\n"
                    "wait $child\n"
                    "echo $? > " +
                    shell_quote(dir.path().string()) + "/exit$OMPI_COMM_WORLD_RANK\n");
  fs::permissions(script, fs::perms::owner_all);
  std::vector<std::string> job = {
      "-np", "2", "--oversubscribe", "--bind-to", "none", script.string(), LOCALSGD_CLI};
  for (const std::string& a :
       with({"--checkpoint", checkpoint.string(), "--checkpoint-every", "20000", "--out",
             (dir.path() / "stopped.model").string(), "--backend", "mpi"}))
    job.push_back(a);
  const CliResult stopped = run_cli(job, kMpiEnv, "mpirun");
  EXPECT_EQ(read_text(dir.path() / "exit0"), "143\n") << stopped.err;
  EXPECT_EQ(read_text(dir.path() / "exit1"), "143\n") << stopped.err;
  EXPECT_NE(stopped.err.find("localsgd: error: interrupted by SIGTERM after step "),
            std::string::npos)
      << stopped.err;
  EXPECT_EQ(stopped.err.find("localsgd: error:"), stopped.err.rfind("localsgd: error:"))
      << "printed twice";
  EXPECT_TRUE(fs::exists(dir.path() / "stopped.model"));

  const fs::path full = dir.path() / "full.model";
  ASSERT_EQ(run_cli(with({"--out", full.string()})).exit_code, 0);
  const fs::path resumed = dir.path() / "resumed.model";
  const CliResult r = run_cli(with({"--resume", checkpoint.string(), "--out", resumed.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(max_relative_difference(model(resumed), model(full)), 1e-12);
}

// A rank without workers would never end a round (it hung): refused on every rank.
TEST(Mpi, FewerWorkersThanRanksAreRefused) {
  REQUIRE_MPIRUN();
  const CliResult m = mpirun(
      3, {"train", "--plugin", "logreg", "--reader-param", "n=200", "-K", "2", "--steps", "20"});
  EXPECT_EQ(m.exit_code, kExitUsage) << m.err;
  EXPECT_NE(m.err.find("--backend mpi needs a worker on every rank: K = 2 on 3 ranks"),
            std::string::npos)
      << m.err;
}

TEST(Mpi, AsynchronousRunsAreRefusedBeforeTheRun) {
  const CliResult r = run_cli(
      {"train", "--plugin", "logreg", "--reader-param", "n=200", "--async", "--backend", "mpi"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.err.find("--async runs in one process: drop --backend mpi (or --async)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace localsgd::testing
