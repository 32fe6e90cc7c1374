// Checkpoints and resume (--checkpoint, --checkpoint-every, --resume) and graceful
// interruption by SIGINT/SIGTERM, through the executable as a user runs them. The promise
// under test: a run resumed from any step ends with the model bytes and the summary of
// the run that was never interrupted (timings aside), for every kind of run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "localsgd/core/io/checkpoint_file.hpp"
#include "localsgd/errors.hpp"
#include "test_support.hpp"

namespace {

using localsgd::testing::CliResult;
using localsgd::testing::data_file;
using localsgd::testing::last_line;
using localsgd::testing::read_text;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;
namespace fs = std::filesystem;
using Args = std::vector<std::string>;

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The summary without what depends on the clock or on the file names of one run.
nlohmann::json comparable_summary(const CliResult& r) {
  auto summary = nlohmann::json::parse(last_line(r.out));
  for (const char* key : {"load_seconds", "seconds", "train_seconds", "sync_seconds",
                          "eval_seconds", "samples_per_second", "model", "checkpoint"})
    summary.erase(key);
  return summary;
}

struct ResumeCase {
  std::string name;
  Args args;                        // everything but --out, --checkpoint, --resume
  std::vector<std::int64_t> stops;  // --checkpoint-every values above T/2: one checkpoint each
  bool needs_w8a = false;
};

class ResumeIsTheUninterruptedRun : public ::testing::TestWithParam<ResumeCase> {};

TEST_P(ResumeIsTheUninterruptedRun, ModelAndSummaryBitForBit) {
  const ResumeCase& c = GetParam();
  if (c.needs_w8a) LOCALSGD_REQUIRE_DATA_FILE(data_file("w8a"));
  TempDir dir;
  const std::string full_model = (dir.path() / "full.model").string();
  const Args base = c.args + Args{"--format", "json"};
  const CliResult full = run_cli(base + Args{"--out", full_model});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string expected_model = read_text(full_model);
  const auto expected_summary = comparable_summary(full);

  for (const std::int64_t stop : c.stops) {
    SCOPED_TRACE("checkpoint at step " + std::to_string(stop));
    const std::string checkpoint = (dir.path() / ("run.ckpt" + std::to_string(stop))).string();
    const std::string saved_model = (dir.path() / "saved.model").string();
    const std::string resumed_model = (dir.path() / "resumed.model").string();
    // Writing checkpoints does not change the run.
    const CliResult saving = run_cli(base + Args{"--out", saved_model, "--checkpoint", checkpoint,
                                                 "--checkpoint-every", std::to_string(stop)});
    ASSERT_EQ(saving.exit_code, 0) << saving.err;
    EXPECT_EQ(read_text(saved_model), expected_model);
    ASSERT_TRUE(fs::exists(checkpoint));

    const CliResult resumed = run_cli(base + Args{"--out", resumed_model, "--resume", checkpoint});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.err.find("resuming from " + checkpoint + " at step "), std::string::npos)
        << resumed.err;
    EXPECT_EQ(read_text(resumed_model), expected_model);
    EXPECT_EQ(comparable_summary(resumed), expected_summary);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Runs, ResumeIsTheUninterruptedRun,
    ::testing::Values(
        // The sparse (margin) path on real data: lazy scales, touched coordinates.
        ResumeCase{"sparse_w8a",
                   {"train", "--plugin", "logreg", "--data", data_file("w8a").string(), "-K", "4",
                    "-H", "8", "--steps", "600"},
                   {301, 304, 599},
                   true},
        // Dense workers (a non-convex objective without the margin path).
        ResumeCase{"dense_mlp",
                   {"train", "--plugin", "mlp", "-K", "3", "-H", "5", "--steps", "200"},
                   {101, 150}},
        ResumeCase{"hierarchical",
                   {"train", "--plugin", "logreg", "-K", "4", "--schedule", "hierarchical",
                    "--schedule-param", "group=2", "--schedule-param", "H1=3", "--schedule-param",
                    "H2=9", "--steps", "200"},
                   {101, 102, 108}},
        // A schedule that keeps state in combine() (the momentum buffer).
        ResumeCase{"outer_nesterov",
                   {"train", "--plugin", "logreg", "-K", "4", "--schedule", "outer-nesterov",
                    "--steps", "200"},
                   {101, 104}},
        // A schedule that reads F at the average to choose its next period.
        ResumeCase{
            "adacomm",
            {"train", "--plugin", "logreg", "-K", "4", "--schedule", "adacomm", "--steps", "300"},
            {151, 233}},
        ResumeCase{"async",
                   {"train", "--plugin", "logreg", "-K", "4", "--async", "--worker-speeds",
                    "random", "--max-staleness", "2", "--steps", "300"},
                   {151, 222}},
        // Progress evaluations, a target that stops the run, and per-step step sizes.
        ResumeCase{"target_and_progress",
                   {"train", "--plugin", "softmax", "-K", "2", "--lr", "invtime", "--eval-every",
                    "25", "--target-rel", "1e-9", "--steps", "400"},
                   {201, 275}},
        // The rate fit gathers every evaluation's gap: a resumed run fits the same ones.
        ResumeCase{"fit_rate",
                   {"train", "--plugin", "logreg", "-K", "2", "--lr", "invtime", "--eval-every",
                    "10", "--fit-rate", "--steps", "400"},
                   {201, 333}},
        // Runs that never sync before T: checkpoints fall inside a phase, which for
        // asynchronous workers runs in chunks.
        ResumeCase{"one_shot",
                   {"train", "--plugin", "logreg", "-K", "2", "-H", "5000", "--steps", "3000"},
                   {1501}},
        ResumeCase{"async_one_shot",
                   {"train", "--plugin", "logreg", "-K", "2", "--async", "--worker-speeds", "1,0.5",
                    "-H", "5000", "--steps", "3000"},
                   {1500, 2500}},
        ResumeCase{"shard_iid",
                   {"train", "--plugin", "ridge", "-K", "5", "--partition", "shard", "--sampling",
                    "iid", "-b", "3", "--steps", "120"},
                   {61, 119}}),
    [](const auto& info) { return info.param.name; });

// A checkpoint written at `stop` of the default run, for the tests below.
class CheckpointFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const CliResult r = run_cli(
        args_ + Args{"--checkpoint", checkpoint_, "--checkpoint-every", "101", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CliResult resume(const Args& more = {}) const {
    return run_cli(args_ + more + Args{"--resume", checkpoint_});
  }

  TempDir dir_;
  const std::string checkpoint_ = (dir_.path() / "run.ckpt").string();
  const Args args_{"train", "--plugin", "logreg", "--steps", "200", "-q"};  // K = 4
};

TEST_F(CheckpointFile, ResumingAnotherRunNamesWhatDiffers) {
  struct Change {
    Args options;
    std::string message;
  };
  for (const Change& change : std::vector<Change>{
           {{"-K", "8"}, "workers is 4 in the checkpoint and 8 in this run"},
           {{"--seed", "2"}, "seed is 1 in the checkpoint and 2 in this run"},
           {{"-b", "2"}, "batch is 4 in the checkpoint and 2 in this run"},
           {{"--param", "lambda=0.01"},
            "objective.params.lambda is \"1e-04\" in the checkpoint and \"0.01\" in this run"},
           {{"--schedule", "post-local"},
            "schedule.name is \"constant\" in the checkpoint and \"post-local\" in this run"},
       }) {
    const CliResult r = resume(change.options);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("this checkpoint is of another run: " + change.message), std::string::npos)
        << r.err;
  }
  // Other data (steps given, so T does not change with n).
  TempDir data;
  const auto file = data.write("tiny.svm", "1 1:1 2:0.5\n-1 1:-1 3:2\n1 2:1\n");
  const CliResult r = resume({"--data", file.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("this checkpoint is of another run: data.rows is "), std::string::npos)
      << r.err;
}

// A step size the checkpoint's run did not take is another run, however close: the
// rule is compared with its exact parameters (once it was compared to six digits, and a
// resume with eta=0.1000001 took over a run with eta=0.1).
TEST(CheckpointIdentity, TheStepSizeIsComparedExactly) {
  TempDir dir;
  const std::string checkpoint = (dir.path() / "run.ckpt").string();
  const Args run{"train", "--plugin", "logreg", "--steps", "200", "-q", "--lr", "constant"};
  ASSERT_EQ(run_cli(run + Args{"--lr-param", "eta=0.1", "--checkpoint", checkpoint,
                               "--checkpoint-every", "101"})
                .exit_code,
            0);
  const CliResult r = run_cli(run + Args{"--lr-param", "eta=0.1000001", "--resume", checkpoint});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("this checkpoint is of another run: lr is \"constant(eta=0.1)\" in the "
                       "checkpoint and \"constant(eta=0.1000001)\" in this run"),
            std::string::npos)
      << r.err;
  const CliResult same = run_cli(run + Args{"--lr-param", "eta=0.1", "--resume", checkpoint});
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

// Objective parameters are compared by value: another spelling of a number, or a default
// given explicitly, is the same run (these were refused as text); another value is not.
TEST(CheckpointIdentity, ObjectiveParametersAreComparedByValue) {
  TempDir dir;
  const std::string checkpoint = (dir.path() / "run.ckpt").string();
  const Args run{"train", "--plugin", "logreg", "--steps", "200", "-q"};
  ASSERT_EQ(run_cli(run + Args{"--param", "lambda=3e-4", "--checkpoint", checkpoint,
                               "--checkpoint-every", "101"})
                .exit_code,
            0);
  const CliResult other = run_cli(run + Args{"--param", "lambda=2e-4", "--resume", checkpoint});
  EXPECT_EQ(other.exit_code, 3) << other.err;
  EXPECT_NE(other.err.find("this checkpoint is of another run: objective.params.lambda is "
                           "\"3e-04\" in the checkpoint and \"2e-04\" in this run"),
            std::string::npos)
      << other.err;
  const CliResult same = run_cli(
      run + Args{"--param", "lambda=0.00030", "--param", "bias=false", "--resume", checkpoint});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  // lambda's default, 1/n = 1e-4 on the 10,000 rows of the embedded data, given as its value.
  ASSERT_EQ(run_cli(run + Args{"--checkpoint", checkpoint, "--checkpoint-every", "101"}).exit_code,
            0);
  const CliResult explicit_default =
      run_cli(run + Args{"--param", "lambda=0.0001", "--resume", checkpoint});
  EXPECT_EQ(explicit_default.exit_code, 0) << explicit_default.err;
}

TEST_F(CheckpointFile, DamagedCheckpointsAreRefusedWithExitThree) {
  const std::string bytes = read_text(checkpoint_);
  ASSERT_GT(bytes.size(), 100u);
  const auto damaged = [&](const std::string& content, const std::string& message) {
    std::ofstream(checkpoint_, std::ios::binary | std::ios::trunc) << content;
    const CliResult r = resume();
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find(checkpoint_ + ": " + message), std::string::npos) << r.err;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  damaged(flipped, "corrupted checkpoint (checksum mismatch)");
  damaged(bytes.substr(0, bytes.size() - 9), "truncated checkpoint");
  damaged(bytes + "x", "corrupted checkpoint: bytes after its end");
  damaged("", "truncated checkpoint");
  damaged("1 1:1\n", "not a localsgd checkpoint");
  std::string future = bytes;
  future[8] = 99;
  damaged(future, "checkpoint format version 99");

  const CliResult missing = run_cli(args_ + Args{"--resume", (dir_.path() / "none").string()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("none: cannot open checkpoint: No such file or directory\n"),
            std::string::npos)
      << missing.err;
}

TEST_F(CheckpointFile, ALongerOrShorterRunIsAnotherRun) {
  const CliResult r = run_cli(
      {"train", "--plugin", "logreg", "-K", "4", "--steps", "101", "-q", "--resume", checkpoint_});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("steps is 200 in the checkpoint and 101 in this run"), std::string::npos)
      << r.err;
}

TEST(CheckpointOptions, MisuseIsAUsageError) {
  TempDir dir;
  const std::string file = (dir.path() / "c").string();
  const CliResult every = run_cli({"train", "--plugin", "logreg", "--checkpoint-every", "5"});
  EXPECT_EQ(every.exit_code, 2);
  EXPECT_NE(every.err.find("--checkpoint-every needs --checkpoint"), std::string::npos)
      << every.err;
  const CliResult zero =
      run_cli({"train", "--plugin", "logreg", "--checkpoint", file, "--checkpoint-every", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--checkpoint-every"), std::string::npos) << zero.err;
  EXPECT_FALSE(fs::exists(file));
}

// A checkpoint that could never be written fails the run before it starts, not when the
// first one is due (a minute into the run by default, or never in a run shorter than
// --checkpoint-every, whose summary would still have named the file). The model's file
// likewise.
TEST(CheckpointOptions, AnUnwritablePathIsRefusedBeforeTheRun) {
  TempDir dir;
  const std::string missing = (dir.path() / "no" / "such").string();
  for (const auto& [option, extra] :
       {std::pair<std::string, Args>{"--checkpoint", {"--checkpoint-every", "5000"}},
        std::pair<std::string, Args>{"--out", {}}}) {
    SCOPED_TRACE(option);
    const CliResult r = run_cli(Args{"train", "--plugin", "logreg", "--steps", "1000", "--format",
                                     "json", "--eval-every", "100", option, missing + "/x"} +
                                extra);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.err, "localsgd: error: " + missing + "/x: cannot write: directory " + missing +
                         " does not exist\n");
    EXPECT_EQ(r.out, "") << "no progress: the run never started";
  }
  const CliResult directory = run_cli(
      {"train", "--plugin", "logreg", "--steps", "1000", "--checkpoint", dir.path().string()});
  EXPECT_EQ(directory.exit_code, 3) << directory.err;
  EXPECT_NE(directory.err.find("cannot write: it is a directory; give the path of a file"),
            std::string::npos)
      << directory.err;
}

// The summary names the checkpoint only when the run wrote one, with its step.
TEST(CheckpointOptions, TheSummarySaysWhichCheckpointWasWritten) {
  TempDir dir;
  const std::string file = (dir.path() / "run.ckpt").string();
  const Args run{"train",    "--plugin", "logreg",       "--steps", "1000",
                 "--format", "json",     "--checkpoint", file};
  const CliResult every = run_cli(run + Args{"--checkpoint-every", "300"});
  ASSERT_EQ(every.exit_code, 0) << every.err;
  const auto saved = nlohmann::json::parse(localsgd::testing::last_line(every.out));
  EXPECT_EQ(saved["checkpoint"], file);
  EXPECT_EQ(saved["checkpoint_step"], 900);
  fs::remove(file);
  const CliResult none = run_cli(run);  // a checkpoint a minute: this run is shorter
  ASSERT_EQ(none.exit_code, 0) << none.err;
  const auto unsaved = nlohmann::json::parse(localsgd::testing::last_line(none.out));
  EXPECT_TRUE(unsaved["checkpoint"].is_null()) << unsaved["checkpoint"];
  EXPECT_TRUE(unsaved["checkpoint_step"].is_null());
  EXPECT_FALSE(fs::exists(file));
}

// Starts `localsgd args...` in the background with stdout and stderr to files.
struct Background {
  pid_t pid = -1;
  Background(const Args& args, const fs::path& out, const fs::path& err) {
    pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      const std::string cli = LOCALSGD_CLI;
      argv.push_back(const_cast<char*>(cli.c_str()));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(127);
      execv(cli.c_str(), argv.data());
      _exit(127);
    }
  }
  int wait_exit_code() const {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

// A run long enough to be stopped in the middle: the signal is sent as soon as its first
// checkpoint exists (written atomically, so existing means whole), not after a fixed
// time, so that a slow build (sanitizers) and a loaded machine test the same thing.
constexpr std::int64_t kLongSteps = 600000;
Args long_run(const std::string& model) {
  return {"train",    "--plugin", "logreg", "-K", "4", "--steps", std::to_string(kLongSteps),
          "--format", "json",     "--out",  model};
}

void wait_for_file(const fs::path& file) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void expect_interrupt_then_resume(int signal, int exit_code, const Args& extra) {
  TempDir dir;
  const std::string model = (dir.path() / "x.model").string();
  const std::string checkpoint = (dir.path() / "x.ckpt").string();
  const Args run = long_run(model) + extra;
  Background job(run + Args{"--checkpoint", checkpoint, "--checkpoint-every", "997"},
                 dir.path() / "out", dir.path() / "err");
  wait_for_file(checkpoint);
  kill(job.pid, signal);
  ASSERT_EQ(job.wait_exit_code(), exit_code) << read_text(dir.path() / "err");
  const std::string err = read_text(dir.path() / "err");
  EXPECT_NE(err.find("continue with --resume " + checkpoint), std::string::npos) << err;
  const auto summary = nlohmann::json::parse(last_line(read_text(dir.path() / "out")));
  EXPECT_EQ(summary["interrupted"], signal == SIGINT ? "SIGINT" : "SIGTERM");
  EXPECT_LT(summary["steps"].get<std::int64_t>(), kLongSteps);
  ASSERT_TRUE(fs::exists(model));
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();

  const CliResult resumed = run_cli(run + Args{"--resume", checkpoint});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::string full_model = (dir.path() / "full.model").string();
  const CliResult full = run_cli(long_run(full_model) + extra);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(read_text(model), read_text(full_model));
  EXPECT_EQ(comparable_summary(resumed), comparable_summary(full));
}

TEST(Interrupt, SigintStopsWithACheckpointAndResumeFinishesTheSameRun) {
  expect_interrupt_then_resume(SIGINT, 130, {});
}

TEST(Interrupt, SigtermDoesTheSameForAsyncRuns) {
  expect_interrupt_then_resume(SIGTERM, 143, {"--async", "--worker-speeds", "1,0.5,1,0.25"});
}

TEST(Interrupt, HierarchicalRunsToo) {
  expect_interrupt_then_resume(SIGINT, 130, {"--schedule", "hierarchical"});
}

// kill -9 while checkpoints are written as often as possible: the file is always a whole
// checkpoint (the old or the new one) and the run continues from it.
TEST(Interrupt, KillNineNeverLeavesABrokenCheckpoint) {
  TempDir dir;
  const std::string checkpoint = (dir.path() / "x.ckpt").string();
  const std::string model = (dir.path() / "x.model").string();
  const Args run{"train",   "--plugin", "logreg", "-K",    "4",
                 "--steps", "200000",   "-q",     "--out", model};
  for (int attempt = 0; attempt < 3; ++attempt) {
    Background job(run + Args{"--checkpoint", checkpoint, "--checkpoint-every", "7"},
                   dir.path() / "out", dir.path() / "err");
    wait_for_file(checkpoint);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + 70 * attempt));
    kill(job.pid, SIGKILL);
    ASSERT_EQ(job.wait_exit_code(), 128 + SIGKILL);
    ASSERT_TRUE(fs::exists(checkpoint));
    EXPECT_NO_THROW((void)localsgd::core::load_checkpoint(checkpoint));
  }
  const CliResult resumed = run_cli(run + Args{"--resume", checkpoint});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::string full_model = (dir.path() / "full.model").string();
  Args full_run = run;
  full_run.back() = full_model;
  ASSERT_EQ(run_cli(full_run).exit_code, 0);
  EXPECT_EQ(read_text(model), read_text(full_model));
}

}  // namespace

namespace {

// A sweep stopped by SIGINT in the middle of its runs: the points whose every run had
// finished are printed and written (--out), the others are dropped, and the exit code is
// 130 with a message that counts them. 40 points (about 0.3 s each in Release) on
// at most two threads: the signal, 2 s in, finds some finished and some not.
TEST(Interrupt, ASweepStopsWithItsFinishedPoints) {
  TempDir dir;
  const fs::path table = dir.path() / "sweep.json";
  const Args sweep = Args{"sweep", "--plugin", "logreg", "-K", "1,2,3,4,5,6,7,8,9,10"} +
                     Args{"-H", "1,2,4,8", "--repeats", "1", "--target", "1e-9"} +
                     Args{"--max-epochs", "60", "--fstar", "0", "--threads", "2"} +
                     Args{"--format", "json", "--out", table.string()};
  Background job(sweep, dir.path() / "out", dir.path() / "err");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  kill(job.pid, SIGINT);
  ASSERT_EQ(job.wait_exit_code(), 130) << read_text(dir.path() / "err");
  const std::string out = read_text(dir.path() / "out");
  const auto summary = nlohmann::json::parse(last_line(out));
  EXPECT_EQ(summary["interrupted"], "SIGINT");
  EXPECT_EQ(summary["planned_points"], 40);
  const auto finished = summary["points"].get<std::int64_t>();
  EXPECT_LT(finished, 40);
  const std::string err = read_text(dir.path() / "err");
  EXPECT_NE(err.find("localsgd: error: sweep interrupted by SIGINT: " + std::to_string(finished) +
                     " of 40 points finished (those are shown and written to " + table.string() +
                     "); --resume " + table.string() + " with the same options runs the others"),
            std::string::npos)
      << err;
  // The sweep_start line, one line per finished point, then the summary; the file holds
  // the same.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), finished + 2) << out;
  EXPECT_EQ(read_text(table), out);
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

}  // namespace
