// Malformed libsvm input through the whole CLI, as a user meets it: every case must exit
// with 3 and print exactly one line, `localsgd: error: FILE:LINE:COL: what`.
//
// The committed corpus (tests/corpus/libsvm/, one small file per error) covers the
// format's errors; the cases made at test time cover what cannot be committed (a
// directory, a missing file, 10 MB lines) and compressed or piped input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using localsgd::testing::last_line;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

const fs::path kCorpus = fs::path(__FILE__).parent_path() / "corpus" / "libsvm";

// What `train` prints for bad data at `where` ("file:line:col" or "file").
std::string error_line(const std::string& where, const std::string& what) {
  return "localsgd: error: " + where + ": " + what + "\n";
}

// Trains one step on `data`; the reader fails before anything else happens.
localsgd::testing::CliResult train_on(const std::string& data) {
  return run_cli({"train", "--plugin", "logreg", "--data", data, "--steps", "1"});
}

void expect_data_error(const std::string& data, const std::string& where, const std::string& what) {
  SCOPED_TRACE(data);
  const auto r = train_on(data);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err, error_line(where, what));
  EXPECT_EQ(r.out, "");
}

struct CorpusCase {
  const char* file;
  const char* position;  // ":line:col", or "" when the error has no position
  const char* message;
};

class LibsvmCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(LibsvmCorpus, ExitsWithDataErrorAtTheExactPosition) {
  const CorpusCase& c = GetParam();
  const std::string path = (kCorpus / c.file).string();
  ASSERT_TRUE(fs::exists(path)) << path;
  expect_data_error(path, path + c.position, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Libsvm, LibsvmCorpus,
    ::testing::Values(CorpusCase{"out_of_order_index.svm", ":3:15",
                                 "index not ascending in '4:1' (previous index 5)"},
                      CorpusCase{"duplicate_index.svm", ":2:10", "duplicate index in '3:0.75'"},
                      CorpusCase{"missing_colon.svm", ":3:8", "expected 'index:value', got '7=1'"},
                      CorpusCase{"non_numeric_label.svm", ":2:1", "invalid label 'yes'"},
                      CorpusCase{"non_numeric_value.svm", ":1:8", "invalid value in '2:0x1f'"},
                      CorpusCase{"nan_value.svm", ":2:8", "value is not finite in '2:nan'"},
                      CorpusCase{"inf_value.svm", ":2:4", "value is not finite in '2:inf'"},
                      CorpusCase{"negative_index.svm", ":2:4", "negative index in '-2:1'"},
                      CorpusCase{"index_overflow.svm", ":1:8",
                                 "index too large in '2147483648:1' (max 2147483647)"},
                      CorpusCase{"index_zero_one_based.svm", ":2:4",
                                 "index 0 but indices are 1-based (set zero_based=true or auto)"},
                      CorpusCase{"empty.svm", "", "no data rows"},
                      CorpusCase{"binary_garbage.svm", ":2:7",
                                 "unexpected byte 0x00 (binary file?)"}),
    [](const ::testing::TestParamInfo<CorpusCase>& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });

TEST(LibsvmCli, RejectsDirectoryAndMissingFile) {
  TempDir dir;
  expect_data_error(dir.path().string(), dir.path().string(),
                    "is a directory, expected a data file");
  const std::string missing = (dir.path() / "missing.svm").string();
  expect_data_error(missing, missing, "cannot open: No such file or directory");
}

// One line of about 10 MB: "1 1:0.25 2:0.25 ...", `entries` entries.
std::string ten_megabyte_line(int& entries) {
  std::string line = "1";
  entries = 0;
  while (line.size() < 10'000'000) line += " " + std::to_string(++entries) + ":0.25";
  return line;
}

TEST(LibsvmCli, TrainsOnATenMegabyteLine) {
  TempDir dir;
  int entries = 0;
  const fs::path path = dir.write("long.svm", ten_megabyte_line(entries) + "\n");
  const auto r = run_cli(
      {"train", "--plugin", "logreg", "--data", path.string(), "--steps", "1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(r.out))["event"], "summary");
}

TEST(LibsvmCli, ReportsAnErrorAtTheEndOfATenMegabyteLine) {
  TempDir dir;
  int entries = 0;
  const std::string line = ten_megabyte_line(entries);
  const fs::path path = dir.write("long_bad.svm", line + " 3:1\n");
  expect_data_error(
      path.string(), path.string() + ":1:" + std::to_string(line.size() + 2),
      "index not ascending in '3:1' (previous index " + std::to_string(entries) + ")");
}

TEST(LibsvmCli, CompressedErrorsNameTheFileAndTheDecompressedPosition) {
  TempDir dir;
  for (const std::string tool : {"gzip", "xz", "bzip2"}) {
    const std::string suffix = tool == "gzip" ? ".gz" : tool == "xz" ? ".xz" : ".bz2";
    const fs::path plain = dir.write("bad_" + tool + ".svm", "+1 1:1\n# comment\n-1 2:1 2:3\n");
    ASSERT_EQ(std::system((tool + " -k " + plain.string()).c_str()), 0) << tool;
    const std::string compressed = plain.string() + suffix;
    expect_data_error(compressed, compressed + ":3:8", "duplicate index in '2:3'");
  }
}

TEST(LibsvmCli, CorruptCompressedStreamIsADataError) {
  TempDir dir;
  const fs::path plain = dir.write("good.svm", "+1 1:1 2:1\n-1 3:1\n");
  ASSERT_EQ(std::system(("xz -k " + plain.string()).c_str()), 0);
  const std::string xz = plain.string() + ".xz";
  const std::string bytes = localsgd::testing::read_text(xz);
  const std::string truncated = dir.write("truncated.svm.xz", bytes.substr(0, bytes.size() / 2));
  expect_data_error(truncated, truncated, "corrupt or truncated xz data (unexpected end)");
  // A file named for a format it is not in says so, for each format (liblzma alone would
  // call it corrupt data).
  for (const std::string suffix : {"gz", "xz", "bz2"}) {
    const fs::path wrong = dir.write("plain.svm." + suffix, "+1 1:1\n");
    const std::string format = suffix == "gz" ? "gzip" : suffix == "xz" ? "xz" : "bzip2";
    expect_data_error(wrong.string(), wrong.string(), "not " + format + " data (bad header)");
  }
  // An empty bzip2 stream has the header and no block: empty data, not a bad header.
  ASSERT_EQ(std::system(("printf '' | bzip2 > " + (dir.path() / "empty.svm.bz2").string()).c_str()),
            0);
  const auto empty = run_cli({"data", "inspect", (dir.path() / "empty.svm.bz2").string()});
  EXPECT_EQ(empty.err.find("bad header"), std::string::npos) << empty.err;
}

TEST(LibsvmCli, ReadsStandardInput) {
  TempDir dir;
  const fs::path good = dir.write("good.svm", "+1 1:1 2:1\n-1 3:1\n+1 2:0.5\n");
  const fs::path bad = dir.write("bad.svm", "+1 1:1\n-1 x\n");
  // run_cli feeds /dev/null; these runs pipe a file in instead.
  const auto run = [&](const fs::path& input) {
    const std::string command = "cat " + input.string() + " | '" + std::string(LOCALSGD_CLI) +
                                "' train --plugin logreg --data - --steps 1 --format json >" +
                                (dir.path() / "out").string() + " 2>" +
                                (dir.path() / "err").string();
    const int status = std::system(command.c_str());
    return std::pair{WEXITSTATUS(status), localsgd::testing::read_text(dir.path() / "err")};
  };
  const auto [good_code, good_err] = run(good);
  EXPECT_EQ(good_code, 0) << good_err;
  const std::string out = localsgd::testing::read_text(dir.path() / "out");
  EXPECT_EQ(nlohmann::json::parse(last_line(out))["event"], "summary") << out;
  const auto [bad_code, bad_err] = run(bad);
  EXPECT_EQ(bad_code, 3);
  EXPECT_EQ(bad_err, error_line("<stdin>:2:4", "expected 'index:value', got 'x'"));
}

}  // namespace
