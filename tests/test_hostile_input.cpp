// What plugins and files hand the core is checked before it is used: a reader's broken
// CSR matrix, an objective narrower than the data, a schedule's absurd batch multiplier,
// requests beyond the machine's memory, output paths that are not regular files, and
// output that cannot be written. Each is a one-line error with its exit code, never a
// crash, a hang or a silently wrong result.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "test_support.hpp"

namespace localsgd::testing {
namespace {

std::string fixture(const std::string& name) {
  return std::string(LOCALSGD_FIXTURE_DIR) + "/" + name + ".so";
}

void expect_error(const CliResult& r, int code, const std::string& text) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

CliResult train_on_hostile(const std::string& fault, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {
      "train",          "--plugin",       "logreg",  "--reader", fixture("fixture_hostile_reader"),
      "--reader-param", "fault=" + fault, "--steps", "10",       "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args);
}

TEST(HostileInput, ABrokenCsrFromAReaderIsItsPluginError) {
  ASSERT_EQ(train_on_hostile("none").exit_code, 0);
  const std::string who = "reader 'fixture_hostile_reader' returned an invalid data set: ";
  expect_error(train_on_hostile("row-order"), kExitPlugin, who + "row pointers decrease at row 2");
  expect_error(train_on_hostile("row-start"), kExitPlugin, who + "the first row pointer is 1");
  expect_error(train_on_hostile("index-high"), kExitPlugin,
               who + "row 3: column index 3 is outside [0, 3)");
  expect_error(train_on_hostile("index-negative"), kExitPlugin,
               who + "row 2: column index -1 is outside [0, 3)");
  expect_error(train_on_hostile("index-order"), kExitPlugin,
               who + "row 1: column indices are not strictly ascending (2 then 0)");
  expect_error(train_on_hostile("index-repeat"), kExitPlugin,
               who + "row 1: column indices are not strictly ascending (0 then 0)");
  expect_error(train_on_hostile("cols-zero"), kExitPlugin,
               who + "row 1: column index 0 is outside [0, 0)");
  expect_error(train_on_hostile("value-nan"), kExitPlugin,
               who + "row 3: value in column 2 (1-based) is not finite");
  // A data set that says some rows' features were left out, when no rows were selected,
  // would train on those rows as rows without features.
  expect_error(train_on_hostile("selected-unasked"), kExitPlugin,
               "reader plugin 'fixture_hostile_reader' left some rows' features out "
               "(selected_from_entries = 6) though no rows were selected");
  // data inspect reads through the same check.
  expect_error(run_cli({"data", "inspect", "ignored", "--reader", fixture("fixture_hostile_reader"),
                        "--reader-param", "fault=index-high"}),
               kExitPlugin, who + "row 3");
}

TEST(HostileInput, ValuesThatOverflowWhenSquaredAreBadData) {
  expect_error(train_on_hostile("value-huge"), kExitData,
               "row 3: feature value 1e+300 in column 2 (1-based) is too large");
  expect_error(train_on_hostile("label-inf"), kExitData, "row 3: label is not finite");
  {
    TempDir dir;
    const auto file = dir.write("target.svm", "1e200 1:1\n2 1:2\n");
    expect_error(run_cli({"solve", "--plugin", "ridge", "--data", file.string()}), kExitData,
                 "target.svm: row 1: label 1e+200 is too large");
  }
  TempDir dir;
  const auto file = dir.write("huge.svm", "1 1:1 2:1e200\n-1 1:2\n");
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", file.string(), "-q"}), kExitData,
               "huge.svm: row 1: feature value 1e+200 in column 2 (1-based) is too large");
}

TEST(HostileInput, AnObjectiveNarrowerThanTheDataIsRefused) {
  expect_error(run_cli({"train", "--plugin", fixture("fixture_narrow_objective"), "--reader",
                        fixture("fixture_hostile_reader"), "--steps", "10"}),
               kExitPlugin,
               "objective plugin 'fixture_narrow_objective' reports dimension 2, below the "
               "data's 3 columns");
}

TEST(HostileInput, NonFiniteGradientsFailSolveInsteadOfReportingFOfZero) {
  expect_error(run_cli({"solve", "--plugin", fixture("fixture_narrow_objective"), "--param",
                        "fault=gradient", "--reader", fixture("fixture_hostile_reader")}),
               kExitPlugin, "gradient is not finite");
}

// f* = 0 (an exact fit without regularisation): a purely relative gap test could never
// pass, and solve must not call it unconverged.
TEST(HostileInput, SolveConvergesOnAnExactFit) {
  const CliResult r =
      run_cli({"solve", "--plugin", "ridge", "--param", "lambda=0", "--param", "bias=true",
               "--reader-param", "task=regression", "--reader-param", "noise=0", "--reader-param",
               "n=2000", "--reader-param", "d=20", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(nlohmann::json::parse(r.out)["fstar"].get<double>(), 1e-20);
}

TEST(HostileInput, AnAbsurdBatchMultiplierIsTheSchedulesError) {
  const auto run = [](const std::string& H, const std::string& b, const std::string& steps = "10") {
    return run_cli({"train", "--plugin", "logreg", "--reader-param", "n=200", "--schedule",
                    fixture("fixture_minibatch"), "--schedule-param", "H=" + H, "-b", b, "--steps",
                    steps, "-q"});
  };
  for (const std::string m : {"4611686018427387904", "1073741825"})
    expect_error(run(m, "1"), kExitPlugin,
                 "schedule plugin 'fixture_minibatch' returned a batch multiplier of " + m +
                     " (it must be between 1 and 1073741824)");
  // A multiplier that is fine alone but too much with the batch is the user's request.
  expect_error(run("1073741824", "2"), kExitUsage,
               "mini-batches of b = 2 times schedule 'fixture_minibatch''s batch multiplier "
               "1073741824 exceed 1073741824 samples");
  // Mini-batches larger than the data are valid (the mini-batch schedule's default H on
  // a small data set): sampling draws with replacement across passes.
  EXPECT_EQ(run("201", "1", "201").exit_code, 0);
  // Beyond T it would take more samples than the Local SGD run it stands for.
  expect_error(run("201", "1"), kExitUsage,
               "schedule 'fixture_minibatch' makes steps of 201 local steps' samples, more than "
               "the run's 10 steps (give a smaller H or more --steps)");
}

TEST(HostileInput, RequestsBeyondTheMachinesMemoryAreRefusedBeforeAllocating) {
  expect_error(run_cli({"train", "--plugin", "logreg", "-K", "10000000", "--steps", "1"}),
               kExitUsage, "K = 10000000 workers with a model of");
  // Where the rows' permutations dominate, the message says how to drop them.
  expect_error(run_cli({"train", "--plugin", "logreg", "--reader-param", "n=50000",
                        "--reader-param", "d=2", "-K", "1000000", "--steps", "1"}),
               kExitUsage, "use --sampling iid, --partition shard, or fewer workers");
  expect_error(run_cli({"train", "--plugin", "logreg", "-b", "1000000000", "--steps", "1"}),
               kExitUsage, "more than this machine's");
  TempDir dir;  // a 27-byte file whose index implies a model of 2^31 coordinates
  const auto file = dir.write("wide.svm", "1 2147483647:1\n-1 1:1\n");
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", file.string(), "--steps", "1"}),
               kExitUsage, "a model of 2147483647 coordinates");
  expect_error(run_cli({"sweep", "--plugin", "logreg", "-K", "1,2", "-H", "1", "--target-rel",
                        "0.1", "--evals-per-epoch", "0"}),
               kExitUsage, "--evals-per-epoch must be >= 1");
}

// Found by fuzz_model: a float where the header needs an integer was converted with
// undefined behaviour; it is a malformed header (exit 3). The input is in the seed corpus.
TEST(HostileInput, AModelHeaderWithAFloatForAnIntegerIsMalformed) {
  TempDir dir;
  const auto data = dir.write("d.svm", "1 1:1\n-1 2:1\n").string();
  for (const std::string field :
       {"\"cols\":4.4e39", "\"cols\":2.5", "\"dimension\":-1e300", "\"version\":1e20"}) {
    std::string header =
        "{\"cols\":2,\"dimension\":2,\"format\":\"localsgd-model\",\"objective\":\"logreg\","
        "\"params\":{},\"version\":1}";
    const std::string key = field.substr(0, field.find(':') + 1);
    const auto at = header.find(key);
    header.replace(at, header.find_first_of(",}", at) - at, field);
    const auto model = dir.write("m.model", header + "\n0\n0\n");
    const CliResult r = run_cli({"eval", "--model", model.string(), "--data", data});
    expect_error(r, kExitData,
                 "malformed model header: " + key.substr(0, key.size() - 1) + " is not an integer");
  }
}

TEST(HostileInput, DevicesAreNotReadAsFiles) {
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", "/dev/zero"}), kExitData,
               "/dev/zero: is a device, expected a data file");
  expect_error(run_cli({"--config", "/dev/zero", "train", "--plugin", "logreg"}), kExitUsage,
               "/dev/zero is a device, expected a config file");
}

class OutputPaths : public ::testing::Test {
 protected:
  CliResult train_to(const std::filesystem::path& out, int steps = 50) {
    return run_cli({"train", "--plugin", "logreg", "--reader-param", "n=200", "--steps",
                    std::to_string(steps), "--out", out.string(), "-q"});
  }
  TempDir dir_;
};

TEST_F(OutputPaths, ASymbolicLinkIsFollowedAndTheTargetKeepsItsMode) {
  const auto target = dir_.path() / "real.model";
  ASSERT_EQ(train_to(target).exit_code, 0);
  ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
  const auto link = dir_.path() / "link.model";
  std::filesystem::create_symlink("real.model", link);
  const std::string before = read_text(target);
  const CliResult r = train_to(link, 80);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_NE(read_text(target), before);  // the target was rewritten through the link
  struct stat info {};
  ASSERT_EQ(::stat(target.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST_F(OutputPaths, FifosDevicesAndDirectoriesAreRefused) {
  const auto fifo = dir_.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  expect_error(train_to(fifo), kExitData, "cannot write: it is a FIFO");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  expect_error(train_to("/dev/null"), kExitData, "/dev/null: cannot write: it is a device");
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
  expect_error(train_to(dir_.path()), kExitData, "cannot write: it is a directory");
}

TEST_F(OutputPaths, AStaleTemporaryFileOfAKilledWriterIsRemoved) {
  // PIDs above the kernel's pid_max (4194304 at most) never run.
  const auto stale = dir_.write(".real.model.tmp.999999999", "partial");
  ASSERT_EQ(train_to(dir_.path() / "real.model").exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(stale));
}

TEST_F(OutputPaths, APlotPathWithQuotesIsAFileNameNotScript) {
  const auto plot = dir_.path() / "it's \"a\" plot'; system('touch pwned'); '.svg";
  const CliResult r = run_cli({"train", "--plugin", "logreg", "--reader-param", "n=200", "--steps",
                               "200", "--plot", plot.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(std::filesystem::file_size(plot), 0u);
  EXPECT_FALSE(std::filesystem::exists("pwned"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "pwned"));
}

TEST_F(OutputPaths, APlotIntoAMissingDirectoryNeverReachesStandardOutput) {
  const CliResult r =
      run_cli({"train", "--plugin", "logreg", "--reader-param", "n=200", "--steps", "200",
               "--format", "json", "--plot", (dir_.path() / "missing" / "p.png").string()});
  expect_error(r, kExitData, "cannot write: directory");
  EXPECT_EQ(r.out.find("PNG"), std::string::npos);
}

TEST_F(OutputPaths, APlotWithoutGnuplotIsAMessage) {
  const CliResult r = run_cli({"train", "--plugin", "logreg", "--reader-param", "n=200", "--steps",
                               "200", "--plot", (dir_.path() / "p.svg").string(), "-q"},
                              "PATH=/nonexistent");
  expect_error(r, kExitRuntime, "p.svg: drawing needs gnuplot, which is not on PATH");
}

TEST(LostOutput, AFullOrClosedStandardOutputIsAFailure) {
  TempDir dir;
  const auto data = dir.write("small.svm", "1 1:0.5 3:1\n-1 2:1\n1 1:1 2:-0.5\n-1 3:-1\n").string();
  const auto model = dir.path() / "m.model";
  ASSERT_EQ(run_cli({"train", "--plugin", "logreg", "--data", data, "--steps", "50", "--out",
                     model.string(), "-q"})
                .exit_code,
            0);
  const std::vector<std::vector<std::string>> commands = {
      {"predict", "--model", model.string(), "--data", data},
      {"eval", "--model", model.string(), "--data", data},
      {"data", "inspect", data},
      {"train", "--plugin", "logreg", "--reader-param", "n=200", "--steps", "10", "--format",
       "json"}};
  for (const auto& args : commands) {
    std::string line;
    for (const auto& a : args) line += " " + a;
    const auto quoted = [&] {
      std::string q = shell_quote(LOCALSGD_CLI);
      for (const auto& a : args) q += " " + shell_quote(a);
      return q;
    }();
    for (const std::string redirect : {" >/dev/full", " >&-"}) {
      const int status = std::system((quoted + redirect + " 2>/dev/null").c_str());
      ASSERT_TRUE(WIFEXITED(status)) << line << redirect;
      EXPECT_EQ(WEXITSTATUS(status), kExitData) << line << redirect;
    }
  }
}

}  // namespace
}  // namespace localsgd::testing
