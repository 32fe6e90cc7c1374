// Several processes at once on one output path or one f* cache directory (issue 13, item 6):
// each file is replaced atomically, so a reader always finds one writer's whole file, and
// no temporary file is left behind; a cache entry that is damaged or belongs to another
// key is never trusted.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace localsgd::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kWriters = 4;

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

void expect_no_temporary_files(const fs::path& dir) {
  for (const fs::path& file : files_in(dir))
    EXPECT_EQ(file.filename().string().find(".tmp."), std::string::npos) << file;
}

// A model of 20,000 coordinates (about half a megabyte of text), so that the writers'
// output overlaps in time.
std::vector<std::string> train_writing(const fs::path& out, int seed) {
  return {
      "train",   "--plugin", "logreg", "--reader-param",     "n=300", "--reader-param", "d=20000",
      "--steps", "300",      "--seed", std::to_string(seed), "--out", out.string(),     "-q"};
}

TEST(ConcurrentUse, WritersOfOneModelPathLeaveOneWritersWholeModel) {
  TempDir dir;
  const fs::path shared = dir.path() / "shared" / "model.txt";
  fs::create_directories(shared.parent_path());
  std::vector<std::vector<std::string>> writers;
  for (int seed = 1; seed <= kWriters; ++seed) writers.push_back(train_writing(shared, seed));
  for (const CliResult& r : run_cli_concurrently(writers)) ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string written = read_text(shared);
  int matches = 0;
  for (int seed = 1; seed <= kWriters; ++seed) {
    const fs::path alone = dir.path() / ("alone" + std::to_string(seed) + ".txt");
    const CliResult r = run_cli(train_writing(alone, seed));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    matches += read_text(alone) == written;
  }
  EXPECT_EQ(matches, 1) << "the shared file is not exactly one writer's model (" << written.size()
                        << " bytes)";
  EXPECT_EQ(files_in(shared.parent_path()).size(), 1u);
  expect_no_temporary_files(dir.path());
}

class FstarCache : public ::testing::Test {
 protected:
  // A run whose target needs f*: each process solves it unless the cache has it.
  std::vector<std::string> train_to_target() const {
    return {"train", "--plugin",     "logreg", "--reader-param", "n=1500", "--reader-param",
            "d=30",  "--target-rel", "1e-2",   "--format",       "json"};
  }
  std::string env() const { return "XDG_CACHE_HOME=" + cache_.path().string(); }
  fs::path entry() const {
    const std::vector<fs::path> files = files_in(cache_.path());
    EXPECT_EQ(files.size(), 1u) << "one entry expected in " << cache_.path();
    return files.empty() ? fs::path() : files.front();
  }
  static double fstar_of(const CliResult& r) {
    return nlohmann::json::parse(last_line(r.out))["fstar"].get<double>();
  }
  TempDir cache_;
};

TEST_F(FstarCache, ConcurrentWritersLeaveOneValidEntryThatLaterRunsUse) {
  const std::vector<CliResult> runs = run_cli_concurrently(
      std::vector<std::vector<std::string>>(kWriters, train_to_target()), env());
  for (const CliResult& r : runs) ASSERT_EQ(r.exit_code, 0) << r.err;
  const double fstar = fstar_of(runs.front());
  for (const CliResult& r : runs) EXPECT_EQ(fstar_of(r), fstar);  // one deterministic solve

  const fs::path file = entry();
  const auto cached = nlohmann::json::parse(read_text(file));
  EXPECT_EQ(cached["fstar"].get<double>(), fstar);
  EXPECT_TRUE(cached["key"].is_string());
  expect_no_temporary_files(cache_.path());

  const CliResult later = run_cli(train_to_target(), env());
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.err.find("computed f*"), std::string::npos) << "cache not used: " << later.err;
  EXPECT_EQ(fstar_of(later), fstar);
}

TEST_F(FstarCache, ADamagedOrForeignEntryIsSolvedAgainAndReplaced) {
  const CliResult first = run_cli(train_to_target(), env());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const double fstar = fstar_of(first);
  const fs::path file = entry();
  const std::string whole = read_text(file);

  // Cut short (a writer killed mid-write could not leave this, but a full disk or a user can).
  std::ofstream(file, std::ios::trunc) << whole.substr(0, whole.size() / 2);
  CliResult r = run_cli(train_to_target(), env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("computed f*"), std::string::npos) << "damaged entry trusted: " << r.err;
  EXPECT_EQ(fstar_of(r), fstar);
  EXPECT_EQ(read_text(file), whole);

  // Whole, but for another key (as after a hash collision of the file name): not this f*.
  auto foreign = nlohmann::json::parse(whole);
  foreign["key"] = "another problem";
  foreign["fstar"] = 1e-300;
  std::ofstream(file, std::ios::trunc) << foreign.dump() << '\n';
  r = run_cli(train_to_target(), env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("computed f*"), std::string::npos) << "foreign entry trusted: " << r.err;
  EXPECT_EQ(fstar_of(r), fstar);
  EXPECT_EQ(read_text(file), whole);
}

}  // namespace
}  // namespace localsgd::testing
