// Tests of the csv reader plugin, loaded as the core loads it: header detection, label
// column by name and index, delimiters, the accepted forms, and every error with its
// line and column, in the API and through the CLI (exit 3).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "localsgd/core/data/loading.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using localsgd::DataError;
using localsgd::Dataset;
using localsgd::ParamError;
using localsgd::ParamMap;
using localsgd::testing::Entries;
using localsgd::testing::read_text;
using localsgd::testing::row_entries;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

class CsvReaderTest : public ::testing::Test {
 protected:
  Dataset read(const std::string& content,
               const std::vector<std::pair<std::string, std::string>>& params = {}) const {
    ParamMap map;
    for (const auto& [k, v] : params) map.set(k, v);
    return localsgd::core::load_dataset(dir_.write("data.csv", content).string(), "csv", map);
  }

  // The DataError reading `content` raises, as "line:col: message" (file name dropped).
  std::string error(const std::string& content,
                    const std::vector<std::pair<std::string, std::string>>& params = {}) const {
    try {
      read(content, params);
    } catch (const DataError& e) {
      return std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.what();
    }
    return "no error";
  }

  TempDir dir_;
};

TEST_F(CsvReaderTest, HeaderIsDetectedWhenAFieldIsNotANumber) {
  const Dataset with = read("y,a,b\n1,2,3\n-1,0,4\n");
  EXPECT_EQ(with.rows(), 2);
  EXPECT_EQ(with.cols, 2);
  EXPECT_EQ(with.label, (std::vector<double>{1, -1}));
  EXPECT_EQ(row_entries(with, 0), (Entries{{0, 2}, {1, 3}}));

  const Dataset without = read("1,2,3\n-1,0,4\n");
  EXPECT_EQ(without.rows(), 2);
  EXPECT_EQ(without.label, (std::vector<double>{1, -1}));

  // A pandas index column has an empty header name: still a header.
  EXPECT_EQ(read(",y\n0,1\n1,1\n", {{"label", "y"}}).rows(), 2);
}

TEST_F(CsvReaderTest, HeaderCanBeForced) {
  EXPECT_EQ(read("1,2,3\n-1,0,4\n", {{"header", "true"}}).rows(), 1);
  EXPECT_EQ(error("y,a\n1,2\n", {{"header", "false"}}), "1:1: expected a number, got 'y'");
}

TEST_F(CsvReaderTest, LabelByNameOrIndexAndFeaturesAreTheOtherColumnsInOrder) {
  const std::string csv = "a,y,b\n5,1,6\n7,-1,0\n";
  for (const std::string label : {"y", "1"}) {
    const Dataset d = read(csv, {{"label", label}});
    EXPECT_EQ(d.label, (std::vector<double>{1, -1})) << label;
    EXPECT_EQ(d.cols, 2);
    EXPECT_EQ(row_entries(d, 0), (Entries{{0, 5}, {1, 6}})) << label;
    EXPECT_EQ(row_entries(d, 1), (Entries{{0, 7}})) << label;
  }
  const Dataset last = read("1,2,3\n4,5,6\n", {{"label", "2"}});
  EXPECT_EQ(last.label, (std::vector<double>{3, 6}));
  EXPECT_EQ(row_entries(last, 1), (Entries{{0, 4}, {1, 5}}));
}

TEST_F(CsvReaderTest, Delimiters) {
  const Entries expected{{0, 2.5}, {1, -3}};
  EXPECT_EQ(row_entries(read("1;2.5;-3\n", {{"delimiter", ";"}}), 0), expected);
  EXPECT_EQ(row_entries(read("1|2.5|-3\n", {{"delimiter", "|"}}), 0), expected);
  for (const std::string tab : {"tab", "\\t", "\t"})
    EXPECT_EQ(row_entries(read("y\tx1\tx2\n1\t2.5\t-3\n", {{"delimiter", tab}}), 0), expected);
  // With ';' a comma is not a separator: "2,5" is one (bad) field.
  EXPECT_EQ(error("1;2\n1;2,5\n", {{"delimiter", ";"}}), "2:3: expected a number, got '2,5'");
}

TEST_F(CsvReaderTest, ZerosAreNotStoredAndColsCountFeatureColumns) {
  const Dataset d = read("y,a,b,c\n1,0,0,0\n0,0,-0,1e-400\n2,0.0,3,0\n");
  EXPECT_EQ(d.rows(), 3);
  EXPECT_EQ(d.cols, 3);
  EXPECT_EQ(d.nnz(), 1);
  EXPECT_EQ(row_entries(d, 0), Entries{});
  EXPECT_EQ(row_entries(d, 1), Entries{});  // -0 and an underflowing 1e-400 are zeros
  EXPECT_EQ(row_entries(d, 2), (Entries{{1, 3}}));
  EXPECT_EQ(d.label, (std::vector<double>{1, 0, 2}));
}

TEST_F(CsvReaderTest, CrlfBlankLinesBomQuotesSpacesAndNoFinalNewline) {
  const Dataset d =
      read("\xEF\xBB\xBF\"label\",\"x, one\" ,x2\r\n\r\n  +1 , \"2\",3\r\n   \r\n-1,4,5e-1");
  EXPECT_EQ(d.rows(), 2);
  EXPECT_EQ(d.label, (std::vector<double>{1, -1}));
  EXPECT_EQ(row_entries(d, 0), (Entries{{0, 2}, {1, 3}}));
  EXPECT_EQ(row_entries(d, 1), (Entries{{0, 4}, {1, 0.5}}));
  EXPECT_EQ(read("y,\"a \"\"quoted\"\" name\"\n1,2\n", {{"label", "y"}}).rows(), 1);
}

TEST_F(CsvReaderTest, RaggedRowsNameTheFieldCounts) {
  EXPECT_EQ(error("y,a,b,c,d\n1,2,3,4,5\n1,2,3,4\n"), "3:8: row has 4 fields, header has 5");
  EXPECT_EQ(error("y,a,b\n1,2,3\n1,2,3,4,5\n"), "3:7: row has 5 fields, header has 3");
  EXPECT_EQ(error("1,2,3\n1,2\n"), "2:4: row has 2 fields, the first row has 3");
  EXPECT_EQ(error("1,2\n1,2,\n"), "2:5: row has 3 fields, the first row has 2");
}

TEST_F(CsvReaderTest, BadNumbersAreQuotedWithTheirPosition) {
  EXPECT_EQ(error("y,a\n1,2\n1,abc\n"), "3:3: expected a number, got 'abc'");
  EXPECT_EQ(error("y,a\n1,2\nx,2\n"), "3:1: expected a number, got 'x'");
  EXPECT_EQ(error("y,a\n1,2 3\n"), "2:3: expected a number, got '2 3'");
  EXPECT_EQ(error("y,a\n1,nan\n"), "2:3: value is not finite: 'nan'");
  EXPECT_EQ(error("y,a\n1,-inf\n"), "2:3: value is not finite: '-inf'");
  EXPECT_EQ(error("y,a\ninf,1\n"), "2:1: label is not finite: 'inf'");
  EXPECT_EQ(error("y,a\n1,1e999\n"), "2:3: value out of range: '1e999'");
  EXPECT_EQ(error("y,a\n1,\n"),
            "2:3: empty field where a value was expected (missing values are not supported)");
  EXPECT_EQ(error("y,a\n1,\"2\n"), "2:3: unterminated quote (a field may not span lines)");
}

TEST_F(CsvReaderTest, LabelColumnAndEmptyFileErrors) {
  EXPECT_EQ(error("y,a\n1,2\n", {{"label", "z"}}),
            "1:0: no column named 'z' in the header (columns: y, a)");
  EXPECT_EQ(error("1,2\n", {{"label", "z"}}).substr(0, 41),
            "1:0: label=z names a column, but the firs");
  EXPECT_EQ(error("y,a\n1,2\n", {{"label", "2"}}),
            "1:0: label column 2 does not exist: rows have 2 fields (columns are 0-based)");
  EXPECT_EQ(error("y,y\n1,2\n", {{"label", "y"}}),
            "1:3: label column 'y' appears twice in the header");
  EXPECT_EQ(error(""), "0:0: empty file: no header and no rows");
  EXPECT_EQ(error("\n \r\n\n"), "0:0: empty file: no header and no rows");
  EXPECT_EQ(error("y,a\n\n"), "0:0: no data rows (only a header line)");
}

TEST_F(CsvReaderTest, BadParametersAreParamErrors) {
  const auto make = [](const std::string& key, const std::string& value) {
    ParamMap params;
    params.set(key, value);
    return localsgd::core::load_dataset("unused.csv", "csv", params);
  };
  EXPECT_THROW(make("header", "maybe"), ParamError);
  EXPECT_THROW(make("delimiter", "x"), ParamError);
  EXPECT_THROW(make("label", "-1"), ParamError);
  ParamMap conflict;
  conflict.set("label", "y");
  conflict.set("header", "false");
  EXPECT_THROW(localsgd::core::load_dataset("unused.csv", "csv", conflict), ParamError);
}

TEST_F(CsvReaderTest, CompressedInputIsNamedAsSuch) {
  EXPECT_EQ(error(std::string("\x1f\x8b\x08\x00rest", 8)),
            "0:0: is gzip-compressed; the csv reader reads plain text: decompress it first");
}

// A read that keeps some rows' features (ReadRequest::select_rows, an MPI rank's rows):
// every row's label, the selected rows exactly as a whole read gives them, the others
// empty; every line is still checked.
TEST_F(CsvReaderTest, ASelectedReadKeepsTheSelectedRowsAndChecksEveryLine) {
  std::string text = "\xEF\xBB\xBFy,a,b,c\r\n";
  for (int i = 0; i < 50; ++i) {
    text += std::to_string(i % 3) + "," + std::to_string(0.5 * i) + ",0," +
            (i % 7 == 0 ? "\"" + std::to_string(i) + "\"" : std::to_string(-i)) + "\n";
    if (i % 11 == 0) text += "\n";  // blank lines
  }
  const fs::path file = dir_.write("rows.csv", text);
  const Dataset whole = localsgd::core::load_dataset(file.string(), "csv", {});
  ASSERT_EQ(whole.rows(), 50);
  std::int64_t asked_entries = -1;
  const auto every_third = [&](std::span<const double> labels, std::int64_t entries) {
    asked_entries = entries;
    std::vector<bool> keep(labels.size());
    for (std::size_t i = 0; i < keep.size(); i += 3) keep[i] = true;
    return keep;
  };
  const Dataset got = localsgd::core::load_dataset(file.string(), "csv", {}, every_third);
  EXPECT_EQ(asked_entries, whole.nnz());
  EXPECT_EQ(got.selected_from_entries, whole.nnz());
  EXPECT_EQ(got.cols, whole.cols);
  EXPECT_EQ(got.label, whole.label);
  for (std::int64_t i = 0; i < whole.rows(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(row_entries(got, i), i % 3 == 0 ? row_entries(whole, i) : Entries{});
  }
  // An error on a row nobody keeps is the whole read's.
  const fs::path bad = dir_.write("bad.csv", text + "1,2,x,3\n");
  try {
    localsgd::core::load_dataset(bad.string(), "csv", {}, every_third);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.line(), 57);
    EXPECT_EQ(e.column(), 5);
    EXPECT_NE(std::string(e.what()).find("expected a number, got 'x'"), std::string::npos)
        << e.what();
  }
}

TEST(CsvReaderCli, StandardInputIsRead) {
  TempDir dir;
  const auto file = dir.write("in.csv", "y,a\n1,2\n-1,0\n");
  // run_cli feeds /dev/null; pipe the file in instead.
  const auto out = dir.path() / "out";
  const std::string command = "cat " + file.string() + " | '" + std::string(LOCALSGD_CLI) +
                              "' data inspect - --reader csv --format json >" + out.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_NE(read_text(out).find("\"source\":\"<stdin>\",\"rows\":2,\"cols\":1,\"nnz\":1"),
            std::string::npos)
      << read_text(out);
}

TEST(CsvReaderCli, ErrorsAreOneLineWithFileLineColumnAndExit3) {
  TempDir dir;
  const std::string ragged = dir.write("ragged.csv", "y,a,b,c,d\n1,2,3,4,5\n1,2,3,4\n").string();
  auto r = run_cli({"data", "inspect", ragged});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err, "localsgd: error: " + ragged + ":3:8: row has 4 fields, header has 5\n");

  const std::string word = dir.write("word.csv", "1,2\n1,two\n").string();
  r = run_cli({"data", "inspect", word});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err, "localsgd: error: " + word + ":2:3: expected a number, got 'two'\n");

  // The reader is chosen by the .csv suffix, and --reader-param reaches it.
  const std::string ok = dir.write("ok.csv", "a;y\n2;1\n0;-1\n").string();
  r = run_cli({"data", "inspect", ok, "--reader-param", "delimiter=;", "--reader-param", "label=y",
               "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"rows\":2,\"cols\":1,\"nnz\":1"), std::string::npos) << r.out;
}

}  // namespace
