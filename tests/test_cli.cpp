// The command-line contract (README "Output and exit codes"): outputs, exit codes, one-line errors.
#include <fcntl.h>
#include <cstdio>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "localsgd/core/io/model_io.hpp"
#include "test_support.hpp"

namespace {

using localsgd::testing::exit_code_of;
using localsgd::testing::last_line;
using localsgd::testing::read_text;
using localsgd::testing::run_cli;
using localsgd::testing::shell_quote;
using localsgd::testing::TempDir;
namespace fs = std::filesystem;

void expect_error(const localsgd::testing::CliResult& r, int code, const std::string& text) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("localsgd: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST(Cli, MainJobRunsOnTheEmbeddedDefaultData) {
  const auto r = run_cli({"train", "--plugin", "logreg"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("objective "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("synthetic(n=10000"), std::string::npos) << r.out;
}

TEST(Cli, JsonSummaryIsTheLastLineAndCarriesTheContractKeys) {
  const auto r = run_cli({"train", "--plugin", "logreg", "--format", "json", "--fstar", "0.1", "-K",
                          "3", "-H", "5", "-b", "2", "--steps", "100", "--seed", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(last_line(r.out));
  for (const char* key : {"event", "schema", "objective", "objective_last", "fstar",
                          "suboptimality", "rel_suboptimality", "steps", "rounds", "grad_evals",
                          "workers", "local_steps", "batch", "seed", "seconds"})
    EXPECT_TRUE(s.contains(key)) << key;
  EXPECT_EQ(s["event"], "summary");
  EXPECT_EQ(s["schema"], 1);
  EXPECT_EQ(s["steps"], 100);
  EXPECT_EQ(s["rounds"], 20);
  EXPECT_EQ(s["grad_evals"], 600);
  EXPECT_EQ(s["workers"], 3);
  EXPECT_EQ(s["local_steps"], 5);
  EXPECT_EQ(s["batch"], 2);
  EXPECT_EQ(s["seed"], 7);
  EXPECT_DOUBLE_EQ(s["suboptimality"].get<double>(), s["objective"].get<double>() - 0.1);
  EXPECT_DOUBLE_EQ(s["rel_suboptimality"].get<double>(), s["suboptimality"].get<double>() / 0.1);
  // Training must have improved on x_0 = 0, where logistic loss is log 2.
  EXPECT_LT(s["objective"].get<double>(), 0.65);
}

TEST(Cli, EpochsSetTheNumberOfSteps) {
  const auto r = run_cli({"train", "--plugin", "logreg", "--format", "json", "--epochs", "2", "-K",
                          "3", "-b", "7", "--reader-param", "n=1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(r.out))["steps"], 96);  // ceil(2*1000/21)
}

// The fields of each line of a CSV text ("" quoting, no newline inside a field).
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted)
        fields.emplace_back();
      else
        fields.back() += c;
    }
    rows.push_back(fields);
  }
  return rows;
}

// A CSV stream is one table: one header, every row in its columns, progress rows and the
// summary alike (a CSV reader would stop at a second header).
TEST(Cli, CsvOutputIsOneTable) {
  const auto bare = run_cli({"train", "--plugin", "logreg", "--format", "csv", "--steps", "10"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  const auto with_progress = run_cli(
      {"train", "--plugin", "logreg", "--format", "csv", "--steps", "10", "--eval-every", "2"});
  ASSERT_EQ(with_progress.exit_code, 0) << with_progress.err;
  const auto rows = csv_rows(with_progress.out);
  ASSERT_EQ(rows.size(), 1u + 5u + 1u) << with_progress.out;  // header, 5 progress, summary
  const std::vector<std::string>& header = rows[0];
  EXPECT_EQ(csv_rows(bare.out).size(), 2u) << bare.out;
  EXPECT_EQ(csv_rows(bare.out)[0], header);  // the same columns with or without progress
  auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  ASSERT_LT(column("step"), header.size());
  ASSERT_LT(column("plugin"), header.size());
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), header.size()) << i;
    EXPECT_EQ(rows[i][0], i + 1 < rows.size() ? "progress" : "summary");
  }
  EXPECT_EQ(rows[3][column("step")], "6");
  EXPECT_EQ(rows[3][column("plugin")], "");
  EXPECT_EQ(rows.back()[column("plugin")], "logreg");
  EXPECT_EQ(rows.back()[column("steps")], "10");

  const auto sweep = run_cli({"sweep", "--plugin", "logreg", "--reader-param", "n=500",
                              "--reader-param", "d=5", "-K", "1,2", "-H", "1", "--target-rel",
                              "5e-2", "--repeats", "1", "--format", "csv"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto sweep_rows = csv_rows(sweep.out);
  ASSERT_EQ(sweep_rows.size(), 1u + 2u + 1u) << sweep.out;
  for (const auto& row : sweep_rows) EXPECT_EQ(row.size(), sweep_rows[0].size()) << sweep.out;
  EXPECT_EQ(sweep_rows[1][0], "sweep_point");
  EXPECT_EQ(sweep_rows[3][0], "sweep");
}

// A sweep or a solve whose --out could never be written stops before its work (it once
// failed only after it, and a sweep's events had already streamed out).
TEST(Cli, SweepAndSolveRefuseAnUnwritableOutBeforeTheirWork) {
  TempDir dir;
  const std::string out = (dir.path() / "missing" / "out").string();
  const std::string said = "localsgd: error: " + out + ": cannot write: directory " +
                           (dir.path() / "missing").string() + " does not exist\n";
  const auto sweep =
      run_cli({"sweep", "--plugin", "logreg", "-K", "1,2", "-H", "4", "--repeats", "1", "--fstar",
               "0.1", "--target-rel", "0.5", "--format", "json", "--out", out});
  EXPECT_EQ(sweep.exit_code, 3) << sweep.err;
  EXPECT_EQ(sweep.err, said);
  EXPECT_EQ(sweep.out, "");
  const auto solve = run_cli({"solve", "--plugin", "logreg", "--progress", "always", "--out", out});
  EXPECT_EQ(solve.exit_code, 3) << solve.err;
  EXPECT_EQ(solve.err, said) << "no progress: the solve never started";
}

TEST(Cli, OutWritesALoadableModelAtomically) {
  TempDir dir;
  const auto model = dir.path() / "x.model";
  const auto r =
      run_cli({"train", "--plugin", "logreg", "--steps", "50", "--out", model.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const auto m = localsgd::core::load_model(model);
  EXPECT_EQ(m.objective, "logreg");
  EXPECT_EQ(m.coefficients.size(), 100u);
  EXPECT_EQ(m.params.count("lambda"), 1u);
  EXPECT_TRUE(std::filesystem::is_regular_file(model));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(Cli, UsageErrorsExitTwo) {
  expect_error(run_cli({"train", "--plugin", "logreg", "--bogus"}), 2, "--bogus");
  expect_error(run_cli({"train"}), 2, "--plugin");
  expect_error(run_cli({"train", "--plugin", "logreg", "--workers", "0"}), 2, "workers");
  expect_error(run_cli({"train", "--plugin", "logreg", "--steps", "5", "--epochs", "2"}), 2,
               "excludes");
  expect_error(run_cli({"train", "--plugin", "logreg", "--param", "lambda=abc"}), 2,
               "lambda=abc: expected a finite number");
  expect_error(run_cli({"train", "--plugin", "logreg", "--param", "lamda=1"}), 2,
               "unknown parameter 'lamda'; known: lambda");
  expect_error(run_cli({"train", "--plugin", "logreg", "--param", "novalue"}), 2, "key=value");
  expect_error(run_cli({"train", "--plugin", "logreg", "--format", "xml"}), 2, "xml");
  expect_error(run_cli({"train", "--plugin", "logreg", "--lr", "adam"}), 2, "unknown step size");
  expect_error(run_cli({"nosuchcommand"}), 2, "nosuchcommand");
}

TEST(Cli, BadDataExitsThreeWithFileLineAndColumn) {
  TempDir dir;
  const auto bad = dir.write("bad.svm", "1 1:1 2:1\n-1 3:1 7;1\n");
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", bad.string()}), 3,
               bad.string() + ":2:8: expected 'index:value', got '7;1'");
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", (dir.path() / "none").string()}),
               3, (dir.path() / "none").string());
  const auto multiclass = dir.write("mc.svm", "1 1:1\n2 1:2\n3 2:1\n");
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", multiclass.string()}), 3,
               multiclass.string() + ": logreg needs binary labels");
  expect_error(run_cli({"train", "--plugin", "logreg", "--steps", "5", "--out",
                        (dir.path() / "no" / "x.model").string()}),
               3, "does not exist");
}

TEST(Cli, HelpAndVersionExitZero) {
  EXPECT_EQ(run_cli({"--help"}).exit_code, 0);
  EXPECT_EQ(run_cli({"train", "--help"}).exit_code, 0);
  const auto v = run_cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("localsgd"), std::string::npos);
}

TEST(Cli, ConfigFileSectionsSetSubcommandOptions) {
  TempDir dir;
  const auto config = dir.write("run.toml", "[train]\nworkers = 2\nbatch = 3\nsteps = 40\n");
  const auto r =
      run_cli({"--config", config.string(), "train", "--plugin", "logreg", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(s["workers"], 2);
  EXPECT_EQ(s["batch"], 3);
  EXPECT_EQ(s["steps"], 40);
}

// The config file is TOML as the specification has it (toml++ reads it): digit
// separators, hexadecimal integers, exponents, inline tables for sections, literal and
// escaped strings, arrays over several lines, comments after values.
TEST(Cli, ConfigFilesAreRealToml) {
  TempDir dir;
  const auto config = dir.write("run.toml",
                                "# a comment\n"
                                "train = { workers = 0x2, batch = 3, plugin = 'logreg' }\n");
  const auto tables = run_cli({"--config", config.string(), "train", "--print-config"});
  ASSERT_EQ(tables.exit_code, 0) << tables.err;
  EXPECT_EQ(tables.out, "[train]\nplugin=\"logreg\"\nworkers=2\nbatch=3\n");

  const auto values = dir.write("values.toml",
                                "[train]\n"
                                "plugin = \"log\\u0072eg\"  # an escape, then a comment\n"
                                "steps = 1_200\n"
                                "target-rel = 5e-1\n"
                                "reader-param = [\n  \"n=300\",\n  'd=20',  # d\n]\n");
  const auto r = run_cli({"--config", values.string(), "train", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(s["plugin"], "logreg");
  EXPECT_EQ(s["rows"], 300);
  EXPECT_EQ(s["cols"], 20);
  EXPECT_LE(s["steps"].get<int>(), 1200);
  EXPECT_TRUE(s["target_reached"].get<bool>()) << r.out;
}

// A syntax error names the file, line and column; a value TOML has but no option can take
// (a date, a nested array) is refused with its place too.
TEST(Cli, TomlErrorsNameFileLineAndColumn) {
  TempDir dir;
  const auto missing = dir.write("missing.toml", "[train]\nsteps = \n");
  const auto r = run_cli({"--config", missing.string(), "train", "--plugin", "logreg"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("localsgd: error: " + missing.string() + ":2:9: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("expected value"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // Unquoted strings were accepted by the INI-like reader of earlier versions: say so.
  const auto bare = dir.write("bare.toml", "[train]\nplugin = logreg\n");
  const auto b = run_cli({"--config", bare.string(), "train"});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find(bare.string() + ":2:10: "), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("a string needs quotes"), std::string::npos) << b.err;

  // A key thousands of parts deep (toml++ would recurse once per part) is refused first.
  std::string deep = "a";
  for (int i = 0; i < 50000; ++i) deep += ".a";
  const auto keys = dir.write("deep.toml", "[train]\n" + deep + " = 1\n");
  const auto k = run_cli({"--config", keys.string(), "train", "--plugin", "logreg"});
  EXPECT_EQ(k.exit_code, 2) << k.err;
  EXPECT_NE(k.err.find(keys.string() + ":2:"), std::string::npos) << k.err;
  EXPECT_NE(k.err.find("dotted parts"), std::string::npos) << k.err;
  const auto header = dir.write("header.toml", "[train" + deep.substr(1) + "]\n");
  EXPECT_EQ(run_cli({"--config", header.string(), "train", "--plugin", "logreg"}).exit_code, 2);
  // Dots in strings, comments and numbers are not key parts.
  const auto dots = dir.write("dots.toml", "[train] # " + deep + "\nplugin = 'logreg' # ...\n" +
                                               "data = '" + deep + "'\ntarget-rel = 0.5\n");
  const auto d2 = run_cli({"--config", dots.string(), "train", "--print-config"});
  EXPECT_EQ(d2.exit_code, 0) << d2.err;

  const auto twice = dir.write("twice.toml", "[train]\nsteps = 1\nsteps = 2\n");
  const auto t = run_cli({"--config", twice.string(), "train", "--plugin", "logreg"});
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_EQ(t.err.rfind("localsgd: error: " + twice.string() + ":3:", 0), 0u) << t.err;

  const auto date = dir.write("date.toml", "[train]\nplugin = \"logreg\"\nsteps = 1979-05-27\n");
  const auto d = run_cli({"--config", date.string(), "train"});
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_EQ(d.err, "localsgd: error: " + date.string() +
                       ":3:9: 'steps' must be a string, number, boolean or an array of them "
                       "(see localsgd --help)\n");
}

// What --print-config writes is TOML that reads back to itself, whatever the values were
// on the command line: floats without a leading digit, leading zeros, backslashes, quotes,
// control characters, integers beyond int64.
TEST(Cli, PrintConfigWritesTomlThatReadsBack) {
  TempDir dir;
  const auto first =
      run_cli({"train", "--plugin", "logreg", "--avg-shift", ".5", "--target", "1e-3", "--seed",
               "18446744073709551615", "--data", "C:\\data\\w8a \"x\" 'y'", "--param", "lambda=010",
               "--print-config"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("avg-shift=\".5\"\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("target=\"1e-3\"\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("seed=\"18446744073709551615\"\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("data=\"C:\\\\data\\\\w8a \\\"x\\\" 'y'\"\n"), std::string::npos)
      << first.out;
  const auto config = dir.write("printed.toml", first.out);
  const auto again = run_cli({"--config", config.string(), "train", "--print-config"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, first.out);
}

// --print-config writes the options as a [train] section that --config reads back: the
// printed run and the run from the printed file are the same run.
TEST(Cli, PrintConfigRoundTripsThroughConfig) {
  TempDir dir;
  const std::vector<std::string> options = {"--plugin",   "logreg",   "-K",         "3",
                                            "-H",         "2",        "-b",         "5",
                                            "--steps",    "60",       "--lr",       "constant",
                                            "--lr-param", "eta=0.25", "--sampling", "iid",
                                            "--seed",     "9",        "--param",    "lambda=0.001",
                                            "--format",   "json"};
  std::vector<std::string> print = {"train"};
  print.insert(print.end(), options.begin(), options.end());
  print.push_back("--print-config");
  const auto printed = run_cli(print);
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(printed.out.rfind("[train]\n", 0), 0u) << printed.out;
  EXPECT_NE(printed.out.find("workers=3"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("lr-param=[\"eta=0.25\"]"), std::string::npos) << printed.out;
  const auto config = dir.write("run.toml", printed.out);

  // Read back, it prints itself.
  const auto again = run_cli({"--config", config.string(), "train", "--print-config"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, printed.out);
  // And runs the same run.
  std::vector<std::string> direct = {"train"};
  direct.insert(direct.end(), options.begin(), options.end());
  const auto a = run_cli(direct);
  const auto b = run_cli({"--config", config.string(), "train"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto summary = [](const auto& r) {
    auto s = nlohmann::json::parse(last_line(r.out));
    for (const char* key : {"load_seconds", "seconds", "train_seconds", "sync_seconds",
                            "eval_seconds", "samples_per_second"})
      s.erase(key);
    return s;
  };
  EXPECT_EQ(summary(a), summary(b));
  // --config may follow the subcommand too, in either spelling.
  const auto after = run_cli({"train", "--config", config.string()});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(summary(after), summary(a));
  const auto joined = run_cli({"train", "--config=" + config.string(), "--print-config"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_EQ(joined.out, printed.out);
  // The command line still overrides the file, wherever --config stands.
  const auto override =
      run_cli({"train", "--seed", "10", "--config", config.string(), "--print-config"});
  ASSERT_EQ(override.exit_code, 0) << override.err;
  EXPECT_NE(override.out.find("seed=10"), std::string::npos) << override.out;
}

// The progress bar goes to stderr only (stdout is the same with or without it), ends on
// the run's last step, and shows f - f* when the run evaluates with f* known. Off the
// terminal (as here) it appears only when asked for.
TEST(Cli, TheProgressBarIsOnStderrOnly) {
  const std::vector<std::string> run = {
      "train", "--plugin",     "logreg", "--reader-param", "n=400", "--steps", "3000", "--fstar",
      "0.31",  "--eval-every", "500",    "--format",       "json"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = run;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  const auto plain = with({}), never = with({"--progress", "never"}),
             always = with({"--progress", "always"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(always.exit_code, 0) << always.err;
  EXPECT_EQ(plain.err, "");  // auto: stderr is no terminal here
  EXPECT_EQ(never.err, "");
  auto without_timings = [](const std::string& out) {
    std::string kept;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line);
      for (const char* key : {"load_seconds", "seconds", "train_seconds", "sync_seconds",
                              "eval_seconds", "samples_per_second"})
        j.erase(key);
      kept += j.dump() + "\n";
    }
    return kept;
  };
  EXPECT_EQ(without_timings(always.out), without_timings(plain.out));
  // The last drawing stays: the whole run, and the last evaluation's gap.
  const std::string last = always.err.substr(always.err.rfind('\r') + 1);
  EXPECT_EQ(last.rfind("train [########################] 100%  3,000/3,000 steps  ", 0), 0u)
      << last;
  const double gap = nlohmann::json::parse(last_line(plain.out))["suboptimality"].get<double>();
  char expected[32];
  std::snprintf(expected, sizeof expected, "  f-f* %.3g\x1b[K\n", gap);
  EXPECT_TRUE(last.ends_with(expected)) << last;

  // A run that fails erases the bar: its message is the last line, alone.
  const auto diverged =
      run_cli({"train", "--plugin", "logreg", "--reader-param", "n=400", "--lr", "constant",
               "--lr-param", "eta=1e6", "--progress", "always", "--steps", "100000"});
  EXPECT_EQ(diverged.exit_code, 1);
  const std::string tail = diverged.err.substr(diverged.err.rfind('\r') + 1);
  EXPECT_EQ(tail.rfind("\x1b[Klocalsgd: error: ", 0), 0u) << diverged.err;

  const auto wrong = with({"--progress", "sometimes"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("--progress: sometimes not in {auto,always,never}"), std::string::npos)
      << wrong.err;
}

// solve's progress: the method, its iteration and the gap bound on stderr only; the last
// state stays, at the iteration that met the tolerance.
TEST(Cli, SolveShowsItsIterationsOnStderrOnly) {
  const std::vector<std::string> solve = {"solve", "--plugin", "logreg", "--reader-param",
                                          "n=400", "--format", "json"};
  auto never = solve, always = solve;
  never.insert(never.end(), {"--progress", "never"});
  always.insert(always.end(), {"--progress", "always"});
  const auto quiet = run_cli(never), shown = run_cli(always);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(quiet.err, "");
  auto without_seconds = [](const std::string& out) {
    auto j = nlohmann::json::parse(out);
    j.erase("seconds");
    return j;
  };
  EXPECT_EQ(without_seconds(shown.out), without_seconds(quiet.out));
  const auto result = nlohmann::json::parse(quiet.out);
  const std::string last = shown.err.substr(shown.err.rfind('\r') + 1);
  EXPECT_EQ(last.rfind("solve newton-cholesky  iteration " +
                           std::to_string(result["iterations"].get<int>()) + "  f - f* <= ",
                       0),
            0u)
      << shown.err;
  EXPECT_TRUE(last.ends_with("\x1b[K\n")) << last;
  EXPECT_EQ(last.find("ETA"), std::string::npos) << last;  // it has met the tolerance
}

// An output over an input, or two outputs on one file, is refused before any work.
TEST(Cli, OutputsNeverReplaceInputsOrEachOther) {
  TempDir dir;
  const auto data = dir.write("d.svm", "1 1:1\n-1 2:1\n");
  const std::string kept = read_text(data);
  const auto over_data = run_cli({"train", "--plugin", "logreg", "--data", data.string(), "--out",
                                  (dir.path() / "." / "d.svm").string()});
  EXPECT_EQ(over_data.exit_code, 2);
  EXPECT_NE(over_data.err.find("d.svm is also --data " + data.string() +
                               ": give each output a file of its own"),
            std::string::npos)
      << over_data.err;
  EXPECT_EQ(read_text(data), kept);
  const auto two = run_cli({"train", "--plugin", "logreg", "--out", "x.svg", "--plot", "x.svg"});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_NE(two.err.find("--plot x.svg is also --out x.svg"), std::string::npos) << two.err;
  // A picture that cannot be written is refused before the run too.
  const auto proc = run_cli({"train", "--plugin", "logreg", "--plot", "/proc/x.svg"});
  EXPECT_EQ(proc.exit_code, 3);
  EXPECT_NE(proc.err.find("/proc/x.svg: cannot write"), std::string::npos) << proc.err;

  // solve's model and predict's predictions over their data (they replaced it).
  const auto solve = run_cli({"solve", "--plugin", "logreg", "--data", data.string(), "--out",
                              data.string(), "--progress", "never"});
  EXPECT_EQ(solve.exit_code, 2) << solve.err;
  EXPECT_EQ(solve.err, "localsgd: error: --out " + data.string() + " is also --data " +
                           data.string() + ": give each output a file of its own\n");
  const auto model = dir.path() / "m.model";
  ASSERT_EQ(run_cli({"solve", "--plugin", "logreg", "--data", data.string(), "--out",
                     model.string(), "--progress", "never"})
                .exit_code,
            0);
  const auto predict = run_cli(
      {"predict", "--model", model.string(), "--data", data.string(), "--out", data.string()});
  EXPECT_EQ(predict.exit_code, 2) << predict.err;
  EXPECT_NE(predict.err.find("is also --data"), std::string::npos) << predict.err;
  EXPECT_EQ(read_text(data), kept);

  // A model written over the checkpoint the run resumes from (the checkpoint itself may go
  // on being written there).
  const auto checkpoint = dir.path() / "c.ckpt";
  ASSERT_EQ(run_cli({"train", "--plugin", "logreg", "--steps", "40", "--checkpoint",
                     checkpoint.string(), "--checkpoint-every", "20", "--quiet"})
                .exit_code,
            0);
  const std::string saved = read_text(checkpoint);
  const auto over_checkpoint =
      run_cli({"train", "--plugin", "logreg", "--steps", "80", "--resume", checkpoint.string(),
               "--out", checkpoint.string(), "--quiet"});
  EXPECT_EQ(over_checkpoint.exit_code, 2) << over_checkpoint.err;
  EXPECT_EQ(over_checkpoint.err, "localsgd: error: --out " + checkpoint.string() +
                                     " is also --resume " + checkpoint.string() +
                                     ": give each output a file of its own\n");
  EXPECT_EQ(read_text(checkpoint), saved);

  // A link to a file not written yet is that file (the writer follows links).
  fs::create_symlink("c.model", dir.path() / "link.ckpt");
  const auto linked = run_cli({"train", "--plugin", "logreg", "--steps", "40", "--quiet", "--out",
                               (dir.path() / "c.model").string(), "--checkpoint",
                               (dir.path() / "link.ckpt").string()});
  EXPECT_EQ(linked.exit_code, 2) << linked.err;
  EXPECT_NE(linked.err.find("link.ckpt is also --out "), std::string::npos) << linked.err;
  EXPECT_FALSE(fs::exists(dir.path() / "c.model"));

  // Every other command that reads one file and writes another.
  const auto refused = [&](const std::vector<std::string>& args, const std::string& said) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(said + ": give each output a file of its own\n"), std::string::npos)
        << r.err;
  };
  refused({"data", "convert", data.string(), data.string(), "--to", "bin"},
          "output " + data.string() + " is also input " + data.string());
  EXPECT_EQ(read_text(data), kept);
  const std::string m = model.string();
  refused({"model", "export", m, "--out", m}, "--out " + m + " is also the model " + m);
  const auto config = dir.write("run.toml", "[train]\nplugin = \"logreg\"\nsteps = 40\n");
  refused({"train", "--config", config.string(), "--out", config.string(), "--quiet"},
          "--out " + config.string() + " is also --config " + config.string());
  const auto runs = dir.write("runs.jsonl", "");
  refused({"plot", runs.string(), "--out", (dir.path() / "runs.jsonl").string()},
          "--out " + runs.string() + " is also the runs file " + runs.string());
}

// The output checks made before the work try to create a file where the output goes:
// permission bits say nothing to root (a read-only mount, /proc, /sys), and a path under
// a regular file is not a missing directory.
TEST(Cli, OutputChecksNameWhatStandsInTheWay) {
  TempDir dir;
  const auto file = dir.write("plain", "x");
  const auto under_file = run_cli({"train", "--plugin", "logreg", "--steps", "10", "--quiet",
                                   "--out", (file / "m.model").string()});
  EXPECT_EQ(under_file.exit_code, 3);
  EXPECT_EQ(under_file.err, "localsgd: error: " + (file / "m.model").string() +
                                ": cannot write: " + file.string() + " is not a directory\n");
  const auto proc = run_cli(
      {"train", "--plugin", "logreg", "--steps", "10", "--quiet", "--out", "/proc/version"});
  EXPECT_EQ(proc.exit_code, 3);
  EXPECT_EQ(proc.err.rfind("localsgd: error: /proc/version: cannot write: ", 0), 0u) << proc.err;
  EXPECT_NE(proc.err.find("(creating a file in directory /proc)\n"), std::string::npos) << proc.err;
  // data convert checks its output before it parses the input (a missing input is not
  // even opened).
  const auto convert = run_cli({"data", "convert", (dir.path() / "absent.svm").string(),
                                (dir.path() / "none" / "out.bin").string()});
  EXPECT_EQ(convert.exit_code, 3);
  EXPECT_EQ(convert.err, "localsgd: error: " + (dir.path() / "none" / "out.bin").string() +
                             ": cannot write: directory " + (dir.path() / "none").string() +
                             " does not exist\n");
}

// A file the rename cannot replace (chattr +i or +a) is refused before the run, not after
// it. Skipped where the attribute cannot be set (no CAP_LINUX_IMMUTABLE, or a file system
// without it).
TEST(Cli, AnImmutableOutputIsRefusedBeforeTheRun) {
  TempDir dir;
  const auto model = dir.write("m.model", "kept");
  if (std::system(("chattr +i " + model.string() + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "chattr +i is not available here";
  struct Unlock {
    std::string path;
    ~Unlock() { (void)std::system(("chattr -i " + path).c_str()); }
  } unlock{model.string()};
  const auto run =
      run_cli({"train", "--plugin", "logreg", "--steps", "10", "--quiet", "--out", model.string()});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.err, "localsgd: error: " + model.string() +
                         ": cannot write: the file is immutable or append-only (chattr +i or "
                         "+a; lsattr shows it)\n");
  EXPECT_EQ(read_text(model), "kept");
}

// The synthetic reader generates its rows: a file named beside it would be ignored, so it
// is refused; a --test file beside generated data is read by its own suffix's reader.
TEST(Cli, TheSyntheticReaderReadsNoFile) {
  TempDir dir;
  const auto svm = dir.write("t.svm", "1 1:0.5 2:1\n-1 1:-0.5 3:1\n1 2:0.25\n");
  expect_error(run_cli({"train", "--plugin", "logreg", "--reader", "synthetic", "--data",
                        svm.string(), "--steps", "10"}),
               2,
               "reader synthetic generates its rows and reads no file, not " + svm.string() +
                   " (drop --reader synthetic to read it)");
  const auto tested =
      run_cli({"train", "--plugin", "logreg", "--reader", "synthetic", "--reader-param", "d=5",
               "--test", svm.string(), "--steps", "10", "--format", "json"});
  ASSERT_EQ(tested.exit_code, 0) << tested.err;
  const auto summary = nlohmann::json::parse(last_line(tested.out));
  const double accuracy = summary["test_accuracy"].get<double>();
  EXPECT_NEAR(accuracy * 3, std::round(accuracy * 3), 1e-12) << "scored on the 3 rows of t.svm";
  // data convert and inspect take the generated rows with no input file.
  const auto bin = dir.path() / "g.bin";
  const auto convert = run_cli({"data", "convert", "--reader", "synthetic", "--reader-param",
                                "n=40", "--reader-param", "d=6", bin.string()});
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  const auto inspect = run_cli({"data", "inspect", bin.string(), "--format", "json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(inspect.out))["rows"], 40);
  expect_error(run_cli({"data", "inspect"}), 2,
               "data inspect needs a FILE (or --reader synthetic, which generates one)");
}

// truth=FILE is an output of the synthetic reader: never one of the run's inputs, and
// never a file that is not a localsgd model.
TEST(Cli, TheSyntheticTruthFileNeverReplacesAnInput) {
  TempDir dir;
  const auto svm = dir.write("t.svm", "1 1:0.5\n-1 1:-0.5\n");
  expect_error(run_cli({"train", "--plugin", "logreg", "--reader-param", "truth=" + svm.string(),
                        "--test", svm.string(), "--steps", "10"}),
               2,
               "--reader-param truth " + svm.string() + " is also --test " + svm.string() +
                   ": give each output a file of its own");
  expect_error(run_cli({"train", "--plugin", "logreg", "--reader-param", "truth=" + svm.string(),
                        "--steps", "10"}),
               2,
               "synthetic: parameter truth=" + svm.string() + ": " + svm.string() +
                   " exists and is not a localsgd model file; not replaced");
  EXPECT_EQ(read_text(svm), "1 1:0.5\n-1 1:-0.5\n");
  const auto truth = dir.path() / "w.model";
  for (int twice = 0; twice < 2; ++twice)  // a model file is replaced
    ASSERT_EQ(run_cli({"train", "--plugin", "logreg", "--reader-param", "truth=" + truth.string(),
                       "--steps", "10", "-q"})
                  .exit_code,
              0);
}

// Options that would be silently dropped or wrapped are refused.
TEST(Cli, ContradictoryOrOutOfRangeOptionsAreRefused) {
  expect_error(
      run_cli({"train", "--plugin", "logreg", "--param", "lambda=0.1", "--param", "lambda=0.2"}), 2,
      "--param lambda is given twice: 0.1 and 0.2");
  EXPECT_EQ(run_cli({"train", "--plugin", "logreg", "--param", "lambda=0.1", "--param",
                     "lambda=0.1", "--steps", "10", "-q"})
                .exit_code,
            0);
  expect_error(run_cli({"train", "--plugin", "logreg", "--seed", "-1"}), 2,
               "--seed: must be a whole number from 0 to 18446744073709551615, not '-1'");
  expect_error(run_cli({"train", "--plugin", "logreg", "--seed", "18446744073709551616"}), 2,
               "not '18446744073709551616'");
  expect_error(run_cli({"train", "--plugin", "logreg", "-H", "2", "--schedule-param", "H=16"}), 2,
               "give -H or --schedule-param H, not both");
  expect_error(run_cli({"train", "--plugin", "logreg", "--data", "-", "--test", "-"}), 2,
               "--data and --test cannot both be standard input");
  // A switch names every spelling it takes (bias=yes is one; bias=True is not).
  expect_error(run_cli({"train", "--plugin", "logreg", "--param", "bias=True"}), 2,
               "bias=True: expected true or false (or 1/0, yes/no, on/off; lower case)");
}

// An --init model whose classes are in another order would start every class from
// another's weights.
TEST(Cli, AnInitModelMustHaveTheRunsClasses) {
  TempDir dir;
  const auto data = dir.write("m.svm", "1 1:1\n2 1:-1\n3 2:1\n1 1:0.5\n2 2:-1\n3 2:0.5\n");
  const auto model = dir.path() / "r.model";
  ASSERT_EQ(run_cli({"train", "--plugin", "softmax", "--data", data.string(), "--param",
                     "classes=3,2,1", "--steps", "20", "-q", "--out", model.string()})
                .exit_code,
            0);
  expect_error(run_cli({"train", "--plugin", "softmax", "--data", data.string(), "--init",
                        model.string(), "--steps", "10"}),
               3,
               model.string() +
                   ": --init: the model's classes is 3,2,1 and this run's is 1,2,3 (give "
                   "--param classes=3,2,1, or start without --init)");
  // The same classes with another lambda is a warm start.
  EXPECT_EQ(
      run_cli({"train", "--plugin", "softmax", "--data", data.string(), "--init", model.string(),
               "--param", "classes=3,2,1", "--param", "lambda=0.01", "--steps", "10", "-q"})
          .exit_code,
      0);
}

// What a run does quietly but should say: test features the model cannot score, and a
// one-step run whose x_hat is the starting point. A mini-batch baseline past T is refused.
TEST(Cli, RunsSayWhatTheyCannotDo) {
  TempDir dir;
  const auto train = dir.write("a.svm", "1 1:1\n-1 1:-1\n1 1:0.5\n-1 1:-0.5\n");
  const auto test = dir.write("b.svm", "1 1:1 3:2\n-1 1:-1\n");
  const auto wide = run_cli({"train", "--plugin", "logreg", "--data", train.string(), "--test",
                             test.string(), "--steps", "10", "-q"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_EQ(wide.err, "localsgd: warning: --test " + test.string() +
                          " has 3 columns and the training data 1: test scores ignore the "
                          "features beyond column 1\n");
  const auto one = run_cli({"train", "--plugin", "logreg", "--steps", "1", "-q"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.err,
            "localsgd: warning: a run of one step reports x_hat = x_0, the starting point (x_hat "
            "averages the iterates before step T)\n");
  // An f* the run went below is not the minimum: its suboptimality would be negative.
  const auto below =
      run_cli({"train", "--plugin", "logreg", "--steps", "100", "--fstar", "5", "-q"});
  ASSERT_EQ(below.exit_code, 0) << below.err;
  EXPECT_EQ(below.err.rfind("localsgd: warning: f(x_hat) = ", 0), 0u) << below.err;
  EXPECT_NE(below.err.find(" is below --fstar 5: that is not the minimum"), std::string::npos)
      << below.err;
  // A default run that ends where it started says so, and names the features' scale.
  std::string noise;
  for (int i = 0; i < 200; ++i)
    noise += (i * 7919 % 13 < 6 ? "1" : "-1") + std::string(" 1:") +
             std::to_string(1e6 * ((i * 104729) % 97 - 48)) + " 2:3e6\n";
  const auto stuck = run_cli(
      {"train", "--plugin", "logreg", "--data", dir.write("noise.svm", noise).string(), "-q"});
  ASSERT_EQ(stuck.exit_code, 0) << stuck.err;
  EXPECT_EQ(stuck.err.rfind("localsgd: warning: the run ended at f(x_hat) = ", 0), 0u) << stuck.err;
  EXPECT_NE(stuck.err.find("it learned almost nothing"), std::string::npos) << stuck.err;
  EXPECT_NE(stuck.err.find("(largest |value| here: 4.8e+07)"), std::string::npos) << stuck.err;
  expect_error(run_cli({"train", "--plugin", "logreg", "--steps", "200", "--schedule", "minibatch",
                        "--schedule-param", "H=1000"}),
               2,
               "schedule 'minibatch' makes steps of 1000 local steps' samples, more than the "
               "run's 200 steps (give a smaller H or more --steps)");
}

// A misspelled command or option gets the closest real one; a word that is no near miss
// gets none.
TEST(Cli, MisspellingsGetASuggestion) {
  const auto command = run_cli({"trian", "--plugin", "logreg"});
  EXPECT_EQ(command.exit_code, 2);
  EXPECT_EQ(command.err,
            "localsgd: error: unknown command 'trian' (did you mean 'train'?); commands: train, "
            "solve, sweep, eval, predict, plugins, data, model, plot (see localsgd --help)\n");
  const auto option = run_cli({"train", "--plugin", "logreg", "--wokers", "3"});
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_EQ(option.err,
            "localsgd: error: The following arguments were not expected: 3 --wokers (did you "
            "mean --workers?) (see localsgd --help)\n");
  const auto joined = run_cli({"train", "--plugin", "logreg", "--epoch=3"});
  EXPECT_NE(joined.err.find("(did you mean --epochs?)"), std::string::npos) << joined.err;
  const auto nested = run_cli({"plugins", "new", "x", "--kind", "reader", "--dri", "/tmp"});
  EXPECT_NE(nested.err.find("(did you mean --dir?)"), std::string::npos) << nested.err;
  const auto far = run_cli({"train", "--plugin", "logreg", "--completely-different"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
}

// The summary names every plugin's effective parameters: those given, the objective's
// resolved ones (lambda = 1/n) and the documented defaults of the rest.
TEST(Cli, TheSummaryRecordsEveryPluginsParameters) {
  const auto r =
      run_cli({"train", "--plugin", "logreg", "--reader-param", "n=250", "--schedule", "post-local",
               "--schedule-param", "H=4", "--steps", "100", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(s["objective_params"], (nlohmann::json{{"bias", "false"}, {"lambda", "0.004"}}));
  EXPECT_EQ(s["schedule_params"], (nlohmann::json{{"H", "4"}, {"t0", "T/2"}}));
  EXPECT_EQ(s["reader"], "synthetic");
  EXPECT_EQ(s["reader_params"]["n"], "250");
  EXPECT_EQ(s["reader_params"]["seed"], "1");  // a default, documented by the manifest
}

TEST(Cli, PrintConfigChecksTheOptionsFirst) {
  const auto r =
      run_cli({"train", "--plugin", "logreg", "--checkpoint-every", "5", "--print-config"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "localsgd: error: --checkpoint-every needs --checkpoint FILE\n");
  EXPECT_EQ(r.out, "");
}

// A key or section that names no option is an error naming the file and the key (a
// misspelled `worker = 3` silently ran with K = 4).
TEST(Cli, ConfigKeysThatNameNoOptionAreRefused) {
  TempDir dir;
  const auto key = dir.write("key.toml", "[train]\nworker = 3\n");
  const auto r = run_cli({"--config", key.string(), "train", "--plugin", "logreg"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "localsgd: error: " + key.string() +
                       ":2:1: 'train.worker' is no option of localsgd (a misspelled key, or a "
                       "section other than a subcommand's, e.g. [train]) (see localsgd --help)\n");
  const auto section = dir.write("section.toml", "[trian]\nworkers = 3\n");
  const auto s = run_cli({"--config", section.string(), "train", "--plugin", "logreg"});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find(section.string() + ":1:2: 'trian'"), std::string::npos) << s.err;
  // In an inline table, the key's own column.
  const auto inline_key = dir.write("inline.toml", "train = { plugin = 'logreg', wrokers = 2 }\n");
  const auto i = run_cli({"--config", inline_key.string(), "train"});
  EXPECT_EQ(i.exit_code, 2);
  EXPECT_NE(i.err.find(inline_key.string() + ":1:30: 'train.wrokers'"), std::string::npos) << i.err;
  // Sections of other subcommands are fine: one file may serve train and sweep.
  const auto both = dir.write("both.toml", "[train]\nsteps = 20\n[sweep]\nrepeats = 2\n");
  const auto b = run_cli({"--config", both.string(), "train", "--plugin", "logreg", "-q"});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  // Two keys for one option: both named, the second's place given.
  const auto twice = dir.write("twice.toml", "[train]\nK = 3\nplugin = 'logreg'\nworkers = 5\n");
  const auto t = run_cli({"train", "--config", twice.string()});
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_EQ(t.err, "localsgd: error: " + twice.string() +
                       ":4:1: 'workers' and 'K' (line 2) both set --workers: give one (see "
                       "localsgd --help)\n");
  // Options that exclude each other: where the config set them, and which to drop.
  const auto exclusive = dir.write("exclusive.toml", "[train]\nsteps = 100\nepochs = 3\n");
  const auto x = run_cli({"train", "--plugin", "logreg", "--config", exclusive.string()});
  EXPECT_EQ(x.exit_code, 2);
  EXPECT_EQ(x.err, "localsgd: error: " + exclusive.string() +
                       ":3:1: 'epochs' excludes 'steps' (line 2): give one of --steps and "
                       "--epochs (see localsgd --help)\n");
  const auto one = dir.write("one.toml", "[train]\n\n  epochs = 3\n");
  const auto o =
      run_cli({"train", "--plugin", "logreg", "--config", one.string(), "--steps", "10"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "localsgd: error: " + one.string() +
                       ":3:3: 'epochs' excludes --steps on the command line: give one of --steps "
                       "and --epochs (see localsgd --help)\n");
  const auto c = run_cli({"train", "--plugin", "logreg", "--steps", "10", "--epochs", "2"});
  EXPECT_EQ(c.err, "localsgd: error: --steps excludes --epochs (see localsgd --help)\n");
  // A config read from a pipe keeps its places too.
  const fs::path err = dir.path() / "stdin.err";
  const int status = std::system(("printf '[train]\\nplugin = \"logreg\"\\nworker = 5\\n' | " +
                                  shell_quote(LOCALSGD_CLI) + " --config /dev/stdin train 2>" +
                                  shell_quote(err.string()))
                                     .c_str());
  EXPECT_EQ(exit_code_of(status), 2);
  EXPECT_EQ(read_text(err).rfind("localsgd: error: /dev/stdin:3:1: 'train.worker' is no option", 0),
            0u)
      << read_text(err);
}

// The summary says which build produced it: the version --version prints, CMake's.
TEST(Cli, TheSummaryNamesTheVersion) {
  const auto v = run_cli({"--version"});
  ASSERT_EQ(v.exit_code, 0);
  const auto r = run_cli({"train", "--plugin", "logreg", "--steps", "10", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(v.out, "localsgd " + s["version"].get<std::string>() + "\n");
  EXPECT_EQ(s["version"], LOCALSGD_PROJECT_VERSION);
}

TEST(Cli, PaperStepSizeUsesItsShiftForTheOutputWeights) {
  const auto r = run_cli(
      {"train", "--plugin", "logreg", "--lr", "paper", "--format", "json", "--steps", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(last_line(r.out));
  EXPECT_NE(s["lr"].get<std::string>().find("paper("), std::string::npos);
  EXPECT_GT(s["avg_shift"].get<double>(), 16.0);  // a = max(16 kappa, H) with kappa > 1
}

}  // namespace

namespace {

// Starts a long run, sends `signal` once it is training, and returns the wait status.
int wait_status_after_signal(int signal) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(LOCALSGD_CLI, LOCALSGD_CLI, "train", "--plugin", "logreg", "--steps", "2000000000",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  EXPECT_TRUE(localsgd::testing::wait_until_catching(pid, signal));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // into the run
  kill(pid, signal);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// The CLI must catch the signal and exit normally with its code: a process killed by the
// signal would report 128 + signal to a shell, the same numbers, without any handler.
void expect_handled_exit(int signal, int expected_code) {
  const int status = wait_status_after_signal(signal);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : -1)
                                 << " instead of exiting";
  EXPECT_EQ(WEXITSTATUS(status), expected_code);
}

TEST(Cli, SignalsGiveTheirDocumentedExitCodes) {
  expect_handled_exit(SIGINT, 130);
  expect_handled_exit(SIGTERM, 143);
}

}  // namespace
