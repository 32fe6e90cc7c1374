// Plugin loading: every way a plugin can be broken gives one clear line and exit code 4,
// both through the core API and through the executable.
#include <gtest/gtest.h>

#include <sstream>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::PluginKind;
using localsgd::testing::run_cli;

std::string fixture(const std::string& name) {
  return std::string(LOCALSGD_FIXTURE_DIR) + "/" + name + ".so";
}

// Runs the command, expects one plugin-error line containing `text` and exit code 4, and
// returns the result for further checks (so the command runs only once).
localsgd::testing::CliResult expect_cli_plugin_error(const std::vector<std::string>& args,
                                                     const std::string& text,
                                                     const std::string& env = "") {
  auto r = run_cli(args, env);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(r.err.rfind("localsgd: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  return r;
}

TEST(PluginLoading, WrongAbiVersionNamesBothVersions) {
  try {
    core::load_plugin(fixture("fixture_wrong_abi"), PluginKind::schedule);
    FAIL();
  } catch (const localsgd::PluginError& e) {
    const std::string expected = "built for plugin ABI version " +
                                 std::to_string(localsgd::kAbiVersion + 1) +
                                 ", this localsgd needs " + std::to_string(localsgd::kAbiVersion);
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
  expect_cli_plugin_error(
      {"train", "--plugin", "logreg", "--schedule", fixture("fixture_wrong_abi")}, "ABI version");
}

TEST(PluginLoading, ThrowingFactoryIsAPluginError) {
  expect_cli_plugin_error(
      {"train", "--plugin", fixture("fixture_throwing_factory")},
      "plugin 'throwing_factory' failed in its factory: fixture factory refuses");
}

TEST(PluginLoading, ExceptionDuringTrainingIsAPluginError) {
  expect_cli_plugin_error({"train", "--plugin", fixture("fixture_throwing_objective")},
                          "fixture objective fails during training");
}

// The core's own errors pass through a plugin call unchanged: a signal seen by a callback
// inside it (solve's progress) is an interruption (exit 130/143), not the plugin's fault.
TEST(PluginLoading, AnInterruptionInsideAPluginCallStaysAnInterruption) {
  EXPECT_THROW(core::call_plugin(PluginKind::objective, "logreg", "solve",
                                 []() -> int { throw localsgd::Interrupted(130, "stop"); }),
               localsgd::Interrupted);
  EXPECT_THROW(core::call_plugin(PluginKind::objective, "logreg", "solve",
                                 []() -> int { throw std::runtime_error("boom"); }),
               localsgd::PluginError);
}

TEST(PluginLoading, MissingFileIsAPluginError) {
  expect_cli_plugin_error({"train", "--plugin", "/nonexistent/dir/objective.so"},
                          "plugin file not found: /nonexistent/dir/objective.so");
}

TEST(PluginLoading, LibraryWithoutManifestIsRefused) {
  expect_cli_plugin_error({"train", "--plugin", fixture("no_manifest")},
                          "does not export 'localsgd_manifest'");
}

TEST(PluginLoading, NonLibraryFileIsRefused) {
  localsgd::testing::TempDir dir;
  const auto fake = dir.write("fake.so", "not an ELF file\n");
  expect_cli_plugin_error({"train", "--plugin", fake.string()}, "not a loadable shared library");
}

TEST(PluginLoading, UnknownNameListsTheAvailablePlugins) {
  const auto r = expect_cli_plugin_error(
      {"train", "--plugin", "logreggg"},
      "unknown objective plugin 'logreggg' (did you mean 'logreg'?); available: ");
  EXPECT_NE(r.err.find(", logreg, "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("libsvm"), std::string::npos) << "only objectives: " << r.err;
  const auto schedule =
      expect_cli_plugin_error({"train", "--plugin", "logreg", "--schedule", "nope"},
                              "unknown schedule plugin 'nope'; available: ");
  EXPECT_NE(schedule.err.find("constant"), std::string::npos) << schedule.err;
}

TEST(PluginLoading, PluginOfTheWrongKindIsRefused) {
  expect_cli_plugin_error({"train", "--plugin", "constant"},
                          "'constant' is a schedule plugin, but a objective plugin was asked for");
}

TEST(PluginLoading, SearchPathEnvironmentVariableComesFirst) {
  // By name, through $LOCALSGD_PLUGIN_PATH.
  expect_cli_plugin_error({"train", "--plugin", "fixture_throwing_factory"},
                          "fixture factory refuses",
                          std::string("LOCALSGD_PLUGIN_PATH=") + LOCALSGD_FIXTURE_DIR);
  const auto dirs = core::plugin_search_path();
  ASSERT_FALSE(dirs.empty());
}

// CMake's default rules name a plugin libNAME.so: `--plugin NAME` loads it, the name
// `plugins list` shows.
TEST(PluginLoading, ALibPrefixedFileLoadsByTheNameItShows) {
  localsgd::testing::TempDir dir;
  // The fixture's manifest says 'throwing_factory'.
  std::filesystem::copy_file(fixture("fixture_throwing_factory"),
                             dir.path() / "libthrowing_factory.so");
  expect_cli_plugin_error({"train", "--plugin", "throwing_factory"}, "fixture factory refuses",
                          "LOCALSGD_PLUGIN_PATH=" + dir.path().string());
}

// A file named like a plugin that is another one (logreg.so that shows 'ridge') does not
// stand in for it: `--plugin logreg` still loads the plugin that says logreg, and the
// impostor is listed under its own name.
TEST(PluginLoading, AFileNamedLikeAPluginDoesNotReplaceIt) {
  localsgd::testing::TempDir dir;
  const auto plugins = core::plugin_search_path().back();  // the build tree's
  std::filesystem::copy_file(plugins / "ridge.so", dir.path() / "logreg.so");
  const std::string env = "LOCALSGD_PLUGIN_PATH=" + dir.path().string();
  const auto r = run_cli({"train", "--plugin", "logreg", "--steps", "10", "--format", "json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"plugin\":\"logreg\""), std::string::npos) << r.out;
  const auto list = run_cli({"plugins", "list"}, env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("logreg"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("ridge"), std::string::npos) << list.out;
}

// A second library of one kind showing one name: the first in the search path loads,
// with one warning naming both files, and `plugins list` says which file each name is.
TEST(PluginLoading, AShadowedPluginIsNamedInAWarning) {
  localsgd::testing::TempDir dir;
  const auto plugins = core::plugin_search_path().back();  // the build tree's
  const auto copy = dir.path() / "logreg.so";
  std::filesystem::copy_file(plugins / "logreg.so", copy);
  const std::string env = "LOCALSGD_PLUGIN_PATH=" + dir.path().string();
  const auto r = run_cli({"train", "--plugin", "logreg", "--steps", "10", "-q"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto canonical = std::filesystem::canonical(plugins / "logreg.so").string();
  EXPECT_EQ(r.err, "localsgd: warning: objective plugin 'logreg' loads from " + copy.string() +
                       ", which shadows " + (plugins / "logreg.so").string() +
                       " (the first in the search path wins; give a path to choose)\n")
      << canonical;
  const auto list = run_cli({"plugins", "list"}, env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::istringstream lines(list.out);
  bool listed = false;
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("objective  logreg"))
      listed = line.find(" " + copy.string() + " ") != std::string::npos;
  EXPECT_TRUE(listed) << list.out;
  // No second library, no warning.
  const auto plain = run_cli({"train", "--plugin", "logreg", "--steps", "10", "-q"});
  EXPECT_EQ(plain.err, "");
}

TEST(PluginLoading, ListShowsEveryInTreePluginAndNoFixture) {
  const auto r = run_cli({"plugins", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line :
       {"objective  logreg", "reader     libsvm", "reader     synthetic", "schedule   constant"})
    EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("fixture"), std::string::npos);
  const auto info = run_cli({"plugins", "info", "logreg"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("lambda"), std::string::npos) << info.out;
}

TEST(PluginLoading, LoadingTwiceReturnsTheSameManifest) {
  const auto& a = core::load_plugin("logreg", PluginKind::objective);
  const auto& b = core::load_plugin("logreg", PluginKind::objective);
  EXPECT_EQ(&a, &b);
  EXPECT_STREQ(a.name, "logreg");
  EXPECT_EQ(a.abi_version, localsgd::kAbiVersion);
}

}  // namespace

namespace {

// A reader may claim file suffixes (LOCALSGD_READER_SUFFIXES): `--data F.tsv` then needs
// no --reader, in train, --test, eval and predict alike; two readers claiming one suffix
// is a usage error naming both, which --reader settles.
TEST(PluginLoading, AReaderThatClaimsASuffixReadsThoseFilesWithoutReader) {
  localsgd::testing::TempDir dir;
  const std::string data =
      dir.write("small.tsv", "1\t0.5\t0\t1\n-1\t0\t1\t0\n1\t1\t-0.5\t0\n-1\t0\t0\t-1\n").string();
  const std::string model = (dir.path() / "m.model").string();
  const std::string env = std::string("LOCALSGD_PLUGIN_PATH=") + LOCALSGD_FIXTURE_DIR;
  const auto r = run_cli({"train", "--plugin", "logreg", "--data", data, "--test", data, "--steps",
                          "50", "--out", model, "--format", "json"},
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(localsgd::testing::last_line(r.out));
  EXPECT_EQ(s["reader"], "fixture_tsv");
  EXPECT_EQ(s["rows"], 4);
  EXPECT_EQ(s["cols"], 3);
  const auto e = run_cli({"eval", "--model", model, "--data", data, "--format", "json"}, env);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(nlohmann::json::parse(e.out)["rows"], 4);
  const auto p = run_cli({"predict", "--model", model, "--data", data, "--format", "csv"}, env);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(std::count(p.out.begin(), p.out.end(), '\n'), 5);  // header and 4 rows
  const auto info = run_cli({"plugins", "info", "fixture_tsv"}, env);
  EXPECT_NE(info.out.find("reads files named *.tsv without --reader"), std::string::npos)
      << info.out;

  // Without the plugin in the search path the file is read as LIBSVM text, which it is not.
  const auto plain = run_cli({"train", "--plugin", "logreg", "--data", data, "--steps", "5"});
  EXPECT_EQ(plain.exit_code, 3) << plain.err;

  // With its twin there too, the suffix is ambiguous until --reader names one.
  const std::string both = env + ":" + LOCALSGD_FIXTURE_DIR + "/twin";
  const auto twice = run_cli({"train", "--plugin", "logreg", "--data", data, "--steps", "5"}, both);
  EXPECT_EQ(twice.exit_code, 2) << twice.err;
  for (const char* text : {"suffix '.tsv' is claimed by reader plugins 'fixture_tsv'",
                           "'fixture_tsv_twin'", "choose one with --reader"})
    EXPECT_NE(twice.err.find(text), std::string::npos) << twice.err;
  const auto chosen = run_cli({"train", "--plugin", "logreg", "--data", data, "--steps", "5",
                               "--reader", "fixture_tsv_twin", "--format", "json"},
                              both);
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  EXPECT_EQ(nlohmann::json::parse(localsgd::testing::last_line(chosen.out))["reader"],
            "fixture_tsv_twin");
}

}  // namespace
