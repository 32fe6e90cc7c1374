// Tests of the libsvm reader plugin, loaded as the core loads it: accepted forms of the
// format, every error with its line and column, and the real data sets' known facts.
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libsvm_test_support.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using localsgd::DataError;
using localsgd::Dataset;
using localsgd::testing::data_file;
using localsgd::testing::Entries;
using localsgd::testing::row_entries;

class LibsvmReaderTest : public ::testing::Test {
 protected:
  // Writes `content` byte for byte (no newline translation) and returns its path.
  fs::path write(std::string_view content, const std::string& name = "data.svm") const {
    return dir_.write(name, std::string(content));
  }

  // Through the plugin as the core loads it, with zero_based left to its default when "".
  static Dataset read_path(const fs::path& path, const std::string& zero_based = "") {
    std::map<std::string, std::string> params;
    if (!zero_based.empty()) params["zero_based"] = zero_based;
    return localsgd::testing::read_libsvm(path, params);
  }

  Dataset read(std::string_view content, const std::string& zero_based = "") const {
    return read_path(write(content), zero_based);
  }

  // Expects reading `content` to fail at line:column with a message containing `text`.
  void expect_error(std::string_view content, std::int64_t line, std::int64_t column,
                    const std::string& text, const std::string& zero_based = "") const {
    SCOPED_TRACE("content: \"" + std::string(content) + "\"");
    const fs::path path = write(content);
    try {
      read_path(path, zero_based);
      ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
      EXPECT_EQ(e.file(), path.string());
      EXPECT_EQ(e.line(), line);
      EXPECT_EQ(e.column(), column);
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "not one line";
    }
  }

  localsgd::testing::TempDir dir_;
};

// ----------------------------------------------------------------------------- accepted

TEST_F(LibsvmReaderTest, ReadsCsrWithZeroBasedColumns) {
  const fs::path path = write("+1 1:0.5 3:-2\n-1 2:1e-3\n");
  const Dataset d = read_path(path);
  EXPECT_EQ(d.row_ptr, (std::vector<std::int64_t>{0, 2, 3}));
  EXPECT_EQ(d.index, (std::vector<std::int32_t>{0, 2, 1}));
  EXPECT_EQ(d.value, (std::vector<double>{0.5, -2, 1e-3}));
  EXPECT_EQ(d.label, (std::vector<double>{1, -1}));
  EXPECT_EQ(d.cols, 3);
  EXPECT_EQ(d.source, path.string());
}

TEST_F(LibsvmReaderTest, AcceptsLabelForms) {
  const Dataset d = read("+1\n-1\n-1.0\n1e0\n3\n+0.5\n0\n");
  EXPECT_EQ(d.label, (std::vector<double>{1, -1, -1, 1, 3, 0.5, 0}));
  EXPECT_EQ(d.nnz(), 0);
  EXPECT_EQ(d.cols, 0);
}

TEST_F(LibsvmReaderTest, SkipsCommentsAndBlankLines) {
  const Dataset d = read("# header: 1:2 3:4\n\n1 1:1 # trailing 9:9\n   \n-1 2:2#tight\n\t# x\n");
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(row_entries(d, 0), (Entries{{0, 1.0}}));
  EXPECT_EQ(row_entries(d, 1), (Entries{{1, 2.0}}));
  EXPECT_EQ(d.label, (std::vector<double>{1, -1}));
}

TEST_F(LibsvmReaderTest, AcceptsCrlfTabsAndRepeatedSpaces) {
  const Dataset d = read("1\t1:1  \t3:2\r\n-1   2:3 \r\n\r\n");
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(row_entries(d, 0), (Entries{{0, 1.0}, {2, 2.0}}));
  EXPECT_EQ(row_entries(d, 1), (Entries{{1, 3.0}}));
}

TEST_F(LibsvmReaderTest, KeepsRowsWithoutFeatures) {
  const Dataset d = read("1\n-1 2:1\n1 \n-1 # only a comment\n");
  EXPECT_EQ(d.row_ptr, (std::vector<std::int64_t>{0, 0, 1, 1, 1}));
  EXPECT_EQ(d.label, (std::vector<double>{1, -1, 1, -1}));
  EXPECT_EQ(d.cols, 2);
}

TEST_F(LibsvmReaderTest, KeepsExplicitZeros) {
  const Dataset d = read("1 1:0 2:0.0 3:-0 4:1\n");
  EXPECT_EQ(d.index, (std::vector<std::int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(d.value, (std::vector<double>{0, 0, 0, 1}));
}

TEST_F(LibsvmReaderTest, ReadsUnderflowAsZero) {
  // As strtod (LIBSVM, scikit-learn) does; overflow stays an error (RejectsBadValue).
  const Dataset d = read("1e-400 1:1e-400 2:-2.5e-999\n");
  EXPECT_EQ(d.label, (std::vector<double>{0}));
  EXPECT_EQ(d.value, (std::vector<double>{0, 0}));
  EXPECT_EQ(d.nnz(), 2);
}

TEST_F(LibsvmReaderTest, ReadsEveryDecimalExactlyAsFromChars) {
  // Short decimals take a fast path (digits / 10^k); 2^53 + 1, 20 significant digits,
  // exponents and 23 fraction digits do not. Either way the value is the correctly
  // rounded one, as std::from_chars gives it.
  const std::vector<std::string> numbers = {"0.1",
                                            "0.3",
                                            "-0.7",
                                            "123456.789",
                                            "9007199254740992",
                                            "-0",
                                            "00012.50",
                                            ".5",
                                            "-7.",
                                            "9007199254740993",
                                            "1.5e3",
                                            "2.5E-308",
                                            "4.9e-324",
                                            "0.1234567890123456789",
                                            "12345678901234567890",
                                            "1e22",
                                            "0.0000000000000000000001",
                                            "0.00000000000000000000001",
                                            "1797.69313486231570e305"};
  std::string text;
  for (const std::string& number : numbers) text += number + " 1:" + number + "\n";
  const Dataset d = read(text);
  ASSERT_EQ(d.rows(), static_cast<std::int64_t>(numbers.size()));
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const std::string& s = numbers[i];
    double expected = 0;
    std::from_chars(s.data(), s.data() + s.size(), expected);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(d.label[i]), std::bit_cast<std::uint64_t>(expected))
        << s;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(d.value[i]), std::bit_cast<std::uint64_t>(expected))
        << s;
  }
}

TEST_F(LibsvmReaderTest, IgnoresQid) {
  const Dataset d = read("3 qid:1 1:1 4:2\n1 qid:2 2:1\n2 qid:2\n");
  EXPECT_EQ(d.row_ptr, (std::vector<std::int64_t>{0, 2, 3, 3}));
  EXPECT_EQ(d.index, (std::vector<std::int32_t>{0, 3, 1}));
  EXPECT_EQ(d.label, (std::vector<double>{3, 1, 2}));
  EXPECT_EQ(d.cols, 4);
}

TEST_F(LibsvmReaderTest, AcceptsMissingFinalNewline) {
  const Dataset d = read("1 1:1\n-1 2:2.5");
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(row_entries(d, 1), (Entries{{1, 2.5}}));
  EXPECT_EQ(read("1 1:1\r").rows(), 1);
  EXPECT_EQ(read("-1").label, (std::vector<double>{-1}));
}

TEST_F(LibsvmReaderTest, ZeroBasedTrueKeepsIndices) {
  const Dataset d = read("1 0:1 2:1\n-1 5:1\n", "true");
  EXPECT_EQ(d.index, (std::vector<std::int32_t>{0, 2, 5}));
  EXPECT_EQ(d.cols, 6);
}

TEST_F(LibsvmReaderTest, ZeroBasedAutoDecidesOnTheWholeFile) {
  // An index 0 anywhere (here on the last row) makes the whole file 0-based.
  const Dataset zero = read("1 3:1\n1 1:1\n-1 0:1\n", "auto");
  EXPECT_EQ(zero.index, (std::vector<std::int32_t>{3, 1, 0}));
  EXPECT_EQ(zero.cols, 4);
  const Dataset one = read("1 3:1\n1 1:1\n", "auto");
  EXPECT_EQ(one.index, (std::vector<std::int32_t>{2, 0}));
  EXPECT_EQ(one.cols, 3);
}

TEST_F(LibsvmReaderTest, RejectsUnknownZeroBasedValue) {
  const auto& manifest = localsgd::core::load_plugin("libsvm", localsgd::PluginKind::reader);
  localsgd::ParamMap params;
  params.set("zero_based", "maybe");
  try {
    localsgd::core::make_reader(manifest, params);
    ADD_FAILURE() << "no ParamError";
  } catch (const localsgd::ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("zero_based"), std::string::npos) << e.what();
  }
}

TEST_F(LibsvmReaderTest, ParsesTenMegabyteLine) {
  std::string line = "1";
  std::int32_t last = 0;
  while (line.size() < 10'000'000) line += " " + std::to_string(++last) + ":0.25";
  line += "\n";
  const Dataset d = read(line);
  ASSERT_EQ(d.rows(), 1);
  EXPECT_EQ(d.nnz(), last);
  EXPECT_EQ(d.cols, last);
  EXPECT_EQ(d.index.back(), last - 1);
  EXPECT_EQ(d.value.back(), 0.25);
}

// ----------------------------------------------------------------------------- errors

TEST_F(LibsvmReaderTest, RejectsBadIndexOrder) {
  expect_error("1 1:1\n1 3:1 2:1\n", 2, 7, "not ascending in '2:1'");
  expect_error("1 3:1 3:2\n", 1, 7, "duplicate index in '3:2'");
}

TEST_F(LibsvmReaderTest, RejectsMalformedFeature) {
  expect_error("1 1:1\n\n-1 7;1\n", 3, 4, "expected 'index:value', got '7;1'");
  expect_error("1 1:1\r\n1 x\r\n", 2, 3, "got 'x'");                // '\r' is not part of the token
  expect_error("1 1:1 qid:2\n", 1, 7, "invalid index in 'qid:2'");  // qid only comes first
  expect_error("1 qid:x 1:1\n", 1, 3, "invalid qid in 'qid:x'");
  expect_error("1 x:1\n", 1, 3, "invalid index in 'x:1'");
  expect_error("1 :1\n", 1, 3, "invalid index in ':1'");
}

TEST_F(LibsvmReaderTest, RejectsBadLabel) {
  expect_error("1 1:1\nabc 1:1\n", 2, 1, "invalid label 'abc'");
  expect_error("+-1 1:1\n", 1, 1, "invalid label '+-1'");
  expect_error("1:1 2:1\n", 1, 1, "expected a label before the features, got '1:1'");
  expect_error("  nan 1:1\n", 1, 3, "label is not finite: 'nan'");
  expect_error("-inf\n", 1, 1, "label is not finite");
  expect_error("1e999\n", 1, 1, "label out of range");
}

TEST_F(LibsvmReaderTest, RejectsBadValue) {
  expect_error("1 1:abc\n", 1, 3, "invalid value in '1:abc'");
  expect_error("1 1:\n", 1, 3, "invalid value in '1:'");
  expect_error("1 1:2:3\n", 1, 3, "invalid value in '1:2:3'");
  expect_error("1 1:1 2:nan\n", 1, 7, "value is not finite in '2:nan'");
  expect_error("1 2:-inf\n", 1, 3, "value is not finite");
  expect_error("1 2:1e999\n", 1, 3, "value out of range in '2:1e999'");
  expect_error("1 2:1e-999x\n", 1, 3, "invalid value in '2:1e-999x'");
}

TEST_F(LibsvmReaderTest, RejectsBadIndexValue) {
  expect_error("1 -3:1\n", 1, 3, "negative index in '-3:1'");
  expect_error("1 -0:1\n", 1, 3, "negative index", "true");
  expect_error("1 2147483648:1\n", 1, 3, "index too large in '2147483648:1'");
  expect_error("1 99999999999999999999:1\n", 1, 3, "index too large");
  expect_error("1 1:1\n1 0:1\n", 2, 3, "index 0 but indices are 1-based");
  // The column count must fit in 32 bits too: with 0-based indices, one more than the
  // largest index. Also when zero_based=auto decides on 0-based after the fact, with the
  // place of that index (the first, in file order, of the largest).
  EXPECT_EQ(read("1 2147483646:1\n", "true").cols, 2147483647LL);
  EXPECT_EQ(read("1 2147483647:1\n", "false").cols, 2147483647LL);
  expect_error("1 1:1\n-1 2:1 2147483647:0.5\n", 2, 8,
               "index too large in '2147483647:0.5' (max 2147483646 with 0-based indices)", "true");
  expect_error("1 1:1 2147483647:2\n1 0:1\n-1 2147483647:3 # end\n", 1, 7,
               "index too large in '2147483647:2' (max 2147483646 with 0-based indices)", "auto");
}

TEST_F(LibsvmReaderTest, RejectsBinaryBytesWhereTheyAre) {
  using namespace std::string_literals;
  expect_error("1 1:1\n1 2:1\0 3:1\n"s, 2, 6, "unexpected byte 0x00");
  expect_error("\0\0\0\0"s, 1, 1, "unexpected byte 0x00");
  expect_error("\x1f\x8b\x08\x00"s, 1, 1, "unexpected byte 0x1f (binary file?)");  // gzip
  expect_error("1 1:1\n1 \xc3\xa9:1\n"s, 2, 3, "unexpected byte 0xc3");
}

TEST_F(LibsvmReaderTest, TruncatesLongTokensInMessages) {
  const std::string token(5000, '7');
  const fs::path path = write("1 " + token + "\n");
  try {
    read_path(path);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("got '" + token.substr(0, 40) + "...'"), std::string::npos) << what;
    EXPECT_LT(what.size(), 100u) << what;
  }
}

TEST_F(LibsvmReaderTest, RejectsMissingFileDirectoryAndEmptyFile) {
  expect_error("", 0, 0, "no data rows");
  expect_error("# only comments\n\n  \n", 0, 0, "no data rows");
  const fs::path missing = dir_.path() / "missing.svm";
  try {
    read_path(missing);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.file(), missing.string());
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.column(), 0);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
  try {
    read_path(dir_.path());
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

TEST_F(LibsvmReaderTest, RequiresAPath) {
  try {
    read_path("");
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.file(), "");
    EXPECT_EQ(e.line(), 0);
    EXPECT_NE(std::string(e.what()).find("needs a file (--data FILE)"), std::string::npos);
  }
}

// ----------------------------------------------------------------------------- real data

TEST_F(LibsvmReaderTest, W8aMatchesPublishedStatistics) {
  const fs::path path = data_file("w8a");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  const Dataset d = read_path(path);
  EXPECT_EQ(d.rows(), 49'749);
  EXPECT_EQ(d.cols, 300);
  EXPECT_EQ(d.nnz(), 579'586);
  std::map<double, std::int64_t> labels;
  for (const double y : d.label) ++labels[y];
  EXPECT_EQ(labels, (std::map<double, std::int64_t>{{-1.0, 48'270}, {1.0, 1'479}}));
  std::int64_t empty = 0;
  for (std::int64_t i = 0; i < d.rows(); ++i) empty += d.row_ptr[i] == d.row_ptr[i + 1];
  EXPECT_EQ(empty, 4'203);
  EXPECT_EQ(row_entries(d, 0), (Entries{{40, 1.0}, {53, 1.0}, {116, 1.0}, {249, 1.0}}));
}

TEST_F(LibsvmReaderTest, A9aTestKeepsExplicitZeroOnRowFive) {
  const fs::path path = data_file("a9a.t");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  const Dataset d = read_path(path);
  EXPECT_EQ(d.rows(), 16'281);
  EXPECT_EQ(d.cols, 123);
  EXPECT_EQ(d.nnz(), 225'732);
  const Entries row5 = row_entries(d, 4);
  ASSERT_FALSE(row5.empty());
  EXPECT_EQ(row5.back(), (std::pair<std::int32_t, double>{122, 0.0}));
}

TEST_F(LibsvmReaderTest, DnaScaleHasIntegerClassLabels) {
  const fs::path path = data_file("dna.scale");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  const Dataset d = read_path(path);
  std::map<double, std::int64_t> labels;
  for (const double y : d.label) ++labels[y];
  EXPECT_EQ(labels, (std::map<double, std::int64_t>{{1, 464}, {2, 485}, {3, 1'051}}));
  EXPECT_EQ(d.cols, 180);
  EXPECT_EQ(d.nnz(), 91'233);
}

}  // namespace
