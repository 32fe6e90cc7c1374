// The libsvm reader's input paths and parallel parse: compressed files and standard
// input give exactly the plain file's data, and any split into chunks on any number of
// threads gives exactly the serial result, the first error in file order included.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libsvm_test_support.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using localsgd::DataError;
using localsgd::Dataset;
using localsgd::testing::expect_same_data;
using localsgd::testing::read_libsvm;
using localsgd::testing::TempDir;
using localsgd::testing::varied_libsvm_text;

// One piece for the whole file: the serial parse.
const std::map<std::string, std::string> kSerial = {{"chunk_bytes", "1000000000000"}};

// Compresses `file` with `tool` (gzip, xz or bzip2), keeping it; returns the new path.
fs::path compress(const fs::path& file, const std::string& tool) {
  const std::string suffix = tool == "gzip" ? ".gz" : tool == "xz" ? ".xz" : ".bz2";
  const std::string command = tool + " -kf '" + file.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return file.string() + suffix;
}

// Standard input redirected from a file for the life of the object.
class StdinFrom {
 public:
  explicit StdinFrom(const fs::path& file) : saved_(::dup(STDIN_FILENO)) {
    const int fd = ::open(file.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0) << file;
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
  }
  ~StdinFrom() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }
  StdinFrom(const StdinFrom&) = delete;
  StdinFrom& operator=(const StdinFrom&) = delete;

 private:
  int saved_;
};

// The DataError that reading `path` throws (fails the test when there is none).
std::optional<DataError> error_of(const fs::path& path,
                                  const std::map<std::string, std::string>& params) {
  try {
    read_libsvm(path, params);
  } catch (const DataError& e) {
    return e;
  }
  ADD_FAILURE() << "no DataError for " << path;
  return std::nullopt;
}

// ----------------------------------------------------------------------------- compressed

TEST(LibsvmCompressed, GzipXzAndBzip2GiveThePlainData) {
  TempDir dir;
  const fs::path plain = dir.write("small.svm", varied_libsvm_text(300'000, 11));
  const Dataset expected = read_libsvm(plain);
  ASSERT_GT(expected.rows(), 1000);
  for (const std::string tool : {"gzip", "xz", "bzip2"}) {
    SCOPED_TRACE(tool);
    const fs::path compressed = compress(plain, tool);
    const Dataset d = read_libsvm(compressed);
    expect_same_data(d.view(), expected.view());
    EXPECT_EQ(d.source, compressed.string());
  }
}

TEST(LibsvmCompressed, ErrorsCountLinesOfTheDecompressedText) {
  TempDir dir;
  const fs::path plain = dir.write("bad.svm", "+1 1:1\n\n# c\n-1 2:1 3:nan\n");
  for (const std::string tool : {"gzip", "xz", "bzip2"}) {
    SCOPED_TRACE(tool);
    const fs::path compressed = compress(plain, tool);
    const auto e = error_of(compressed, {});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->file(), compressed.string());
    EXPECT_EQ(e->line(), 4);
    EXPECT_EQ(e->column(), 8);
  }
}

TEST(LibsvmCompressed, CorruptStreamsAreDataErrors) {
  TempDir dir;
  const fs::path plain = dir.write("data.svm", varied_libsvm_text(100'000, 3));
  for (const std::string tool : {"gzip", "xz", "bzip2"}) {
    SCOPED_TRACE(tool);
    const fs::path good = compress(plain, tool);
    std::string bytes = localsgd::testing::read_text(good);
    const fs::path truncated =
        dir.write("truncated" + good.extension().string(), bytes.substr(0, bytes.size() - 10));
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
    const fs::path flipped = dir.write("flipped" + good.extension().string(), bytes);
    for (const fs::path& bad : {truncated, flipped}) {
      const auto e = error_of(bad, {});
      ASSERT_TRUE(e);
      EXPECT_EQ(e->file(), bad.string());
      EXPECT_EQ(e->line(), 0);
      EXPECT_NE(std::string(e->what()).find("corrupt or truncated " + tool + " data"),
                std::string::npos)
          << e->what();
    }
    const fs::path empty = dir.write("empty" + good.extension().string(), "");
    const auto e = error_of(empty, {});
    ASSERT_TRUE(e);
    EXPECT_EQ(std::string(e->what()), "empty file, expected " + tool + " data");
  }
}

// ----------------------------------------------------------------------------- stdin

TEST(LibsvmStdin, DashReadsStandardInputPlainOrCompressed) {
  TempDir dir;
  const fs::path plain = dir.write("small.svm", varied_libsvm_text(200'000, 5));
  const Dataset expected = read_libsvm(plain);
  for (const fs::path& input : {plain, compress(plain, "gzip"), compress(plain, "xz")}) {
    SCOPED_TRACE(input.string());
    const StdinFrom redirect(input);
    const Dataset d = read_libsvm("-");
    expect_same_data(d.view(), expected.view());
    EXPECT_EQ(d.source, "<stdin>");
  }
}

TEST(LibsvmStdin, ErrorsNameStandardInput) {
  TempDir dir;
  const StdinFrom redirect(dir.write("bad.svm", "1 1:1\n1 1:1 1:2\n"));
  const auto e = error_of("-", {});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->located_message(), "<stdin>:2:7: duplicate index in '1:2'");
}

// ----------------------------------------------------------------------------- ijcnn1

TEST(LibsvmRealData, Ijcnn1XzMatchesPublishedStatistics) {
  const fs::path path = localsgd::testing::data_file("ijcnn1.xz");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  const Dataset d = read_libsvm(path);
  EXPECT_EQ(d.rows(), 49'990);
  EXPECT_EQ(d.cols, 22);
  EXPECT_EQ(d.nnz(), 649'870);
  std::map<double, std::int64_t> labels;
  for (const double y : d.label) ++labels[y];
  EXPECT_EQ(labels, (std::map<double, std::int64_t>{{-1.0, 45'137}, {1.0, 4'853}}));
  std::int64_t zeros = 0;
  for (const double v : d.value) zeros += v == 0.0;
  EXPECT_EQ(zeros, 1);
  // The same bytes decompressed by xz(1) and read as a plain file.
  TempDir dir;
  const fs::path text = dir.path() / "ijcnn1";
  const std::string command = "xz -dc '" + path.string() + "' > '" + text.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  expect_same_data(d.view(), read_libsvm(text).view());
}

// ----------------------------------------------------------------------------- parallel

class LibsvmParallel : public ::testing::Test {
 protected:
  // Every split (one line per chunk, a few lines, 4 KiB, 64 KiB, automatic) on 1 and 2
  // threads must give the serial result.
  template <class Check>
  void for_each_split(Check check) {
    for (const int threads : {1, 2}) {
      const tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
      for (const char* bytes : {"1", "300", "4096", "65536", "auto"}) {
        SCOPED_TRACE(std::string("threads=") + std::to_string(threads) + " chunk_bytes=" + bytes);
        check(std::string(bytes));
      }
    }
  }
  TempDir dir_;
};

TEST_F(LibsvmParallel, AnySplitGivesTheSerialResult) {
  const fs::path path = dir_.write("big.svm", varied_libsvm_text(6'000'000, 7));
  const Dataset serial = read_libsvm(path, kSerial);
  ASSERT_GT(serial.rows(), 30'000);
  for_each_split([&](const std::string& bytes) {
    expect_same_data(read_libsvm(path, {{"chunk_bytes", bytes}}).view(), serial.view());
  });
}

TEST_F(LibsvmParallel, ZeroBasedAutoLooksAtTheWholeFile) {
  const std::string text = varied_libsvm_text(2'000'000, 9);
  // Without an index 0 the file is 1-based; an index 0 on its very last row makes every
  // chunk's indices 0-based.
  const fs::path one = dir_.write("one.svm", text);
  const fs::path zero = dir_.write("zero.svm", text + "-1 0:1\n");
  const Dataset as_one = read_libsvm(one, {{"zero_based", "false"}});
  const Dataset as_zero = read_libsvm(zero, {{"zero_based", "true"}});
  for_each_split([&](const std::string& bytes) {
    expect_same_data(read_libsvm(one, {{"zero_based", "auto"}, {"chunk_bytes", bytes}}).view(),
                     as_one.view());
    expect_same_data(read_libsvm(zero, {{"zero_based", "auto"}, {"chunk_bytes", bytes}}).view(),
                     as_zero.view());
  });
}

TEST_F(LibsvmParallel, FirstErrorInFileOrderWins) {
  // Valid lines with errors at lines 10001, 25001 and 40001: many chunks hold an error,
  // and the later ones are often parsed first.
  std::vector<std::string> lines;
  const std::string text = varied_libsvm_text(7'000'000, 13);
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = text.find('\n', begin);
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  ASSERT_GT(lines.size(), 40'001u);
  lines[10'000] = "+1 5:1 5:2";
  lines[25'000] = "+1 x";
  lines[40'000] = "nan 1:1";
  std::string joined;
  for (const std::string& line : lines) joined += line + "\n";
  const fs::path path = dir_.write("errors.svm", joined);
  for_each_split([&](const std::string& bytes) {
    const auto e = error_of(path, {{"chunk_bytes", bytes}});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->line(), 10'001);
    EXPECT_EQ(e->column(), 8);
    EXPECT_STREQ(e->what(), "duplicate index in '5:2'");
  });
  // With the first two fixed, the third is reported at its exact line in a late chunk.
  lines[10'000] = lines[25'000] = "+1 5:1";
  joined.clear();
  for (const std::string& line : lines) joined += line + "\n";
  dir_.write("errors.svm", joined);
  for_each_split([&](const std::string& bytes) {
    const auto e = error_of(path, {{"chunk_bytes", bytes}});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->line(), 40'001);
    EXPECT_EQ(e->column(), 1);
    EXPECT_STREQ(e->what(), "label is not finite: 'nan'");
  });
}

// The arrays are sized from bounds counted before parsing; lines that hold no row or no
// entry (comments full of colons, blank or whitespace-only lines) must neither make the
// bounds explode nor leave their slack in the data set.
TEST_F(LibsvmParallel, LinesWithoutDataLeaveNoSlack) {
  const std::string colons = "# " + std::string(200'000, ':') + "\n";
  const std::string blanks(300'000, '\n');
  std::string spaces;
  for (int i = 0; i < 100'000; ++i) spaces += " \t\r\n";
  std::string text = "1 1:1 3:2\n";
  for (int i = 0; i < 10; ++i) text += colons + blanks + spaces + "-1 2:0.5\n";
  const fs::path path = dir_.write("sparse_lines.svm", text);
  for_each_split([&](const std::string& bytes) {
    const Dataset d = read_libsvm(path, {{"chunk_bytes", bytes}});
    ASSERT_EQ(d.rows(), 11);
    ASSERT_EQ(d.nnz(), 12);
    EXPECT_LT(d.index.capacity(), 1024u);
    EXPECT_LT(d.value.capacity(), 1024u);
    EXPECT_LT(d.label.capacity(), 1024u);
    EXPECT_LT(d.row_ptr.capacity(), 1024u);
  });
}

TEST_F(LibsvmParallel, LinesLongerThanAChunkStayWhole) {
  std::string text = "1";
  for (int j = 1; j <= 200'000; ++j) text += " " + std::to_string(j) + ":0.5";
  text += "\n-1 3:1\n" + text;
  const fs::path path = dir_.write("long.svm", text);
  const Dataset serial = read_libsvm(path, kSerial);
  ASSERT_EQ(serial.rows(), 3);
  EXPECT_EQ(serial.nnz(), 400'001);
  expect_same_data(read_libsvm(path, {{"chunk_bytes", "4096"}}).view(), serial.view());
}

// A read that keeps some rows' features (ReadRequest::select_rows, an MPI rank's rows).
Dataset read_selected(const fs::path& path, const std::map<std::string, std::string>& params,
                      const localsgd::ReadRequest::RowSelector& select) {
  const auto& manifest = localsgd::core::load_plugin("libsvm", localsgd::PluginKind::reader);
  localsgd::ReadRequest request{path.string(), select};
  return localsgd::core::make_reader(manifest, localsgd::ParamMap(params))->read(request);
}

// The whole read with the rows not in `keep` emptied: what a selected read must give.
Dataset emptied(const Dataset& whole, const std::vector<bool>& keep) {
  Dataset expected;
  expected.cols = whole.cols;
  expected.label = whole.label;
  for (std::int64_t i = 0; i < whole.rows(); ++i) {
    const localsgd::SparseRow row = whole.view().row(i);
    if (keep[static_cast<std::size_t>(i)]) {
      expected.index.insert(expected.index.end(), row.index, row.index + row.size);
      expected.value.insert(expected.value.end(), row.value, row.value + row.size);
    }
    expected.row_ptr.push_back(static_cast<std::int64_t>(expected.index.size()));
  }
  return expected;
}

TEST_F(LibsvmParallel, SelectedRowsAreTheWholeReadsRowsOnAnySplit) {
  const fs::path path = dir_.write("big.svm", varied_libsvm_text(3'000'000, 21));
  for (const char* base : {"false", "auto"}) {
    const Dataset whole = read_libsvm(path, {{"zero_based", base}});
    ASSERT_GT(whole.rows(), 15'000);
    // Every third row, a block in the middle and the last row.
    std::vector<bool> keep(static_cast<std::size_t>(whole.rows()));
    for (std::size_t i = 0; i < keep.size(); ++i)
      keep[i] = i % 3 == 0 || (i > keep.size() / 2 && i < keep.size() / 2 + 500);
    keep.back() = true;
    const Dataset expected = emptied(whole, keep);
    for_each_split([&](const std::string& bytes) {
      int calls = 0;
      const Dataset got =
          read_selected(path, {{"zero_based", base}, {"chunk_bytes", bytes}},
                        [&](std::span<const double> labels, std::int64_t entries) {
                          ++calls;
                          EXPECT_TRUE(std::equal(labels.begin(), labels.end(), whole.label.begin(),
                                                 whole.label.end()));
                          EXPECT_EQ(entries, whole.nnz());
                          return keep;
                        });
      EXPECT_EQ(calls, 1);
      EXPECT_EQ(got.selected_from_entries, whole.nnz());
      expect_same_data(got.view(), expected.view());
    });
  }
}

TEST_F(LibsvmParallel, ASelectedReadChecksAndDecidesOnEveryRow) {
  const std::string text = varied_libsvm_text(1'000'000, 5);
  const auto first_row_only = [](std::span<const double> labels, std::int64_t) {
    std::vector<bool> keep(labels.size());
    keep[0] = true;
    return keep;
  };
  // An index 0 on a row not kept still makes zero_based=auto read 0-based indices.
  const fs::path zero = dir_.write("zero.svm", text + "-1 0:1\n");
  const Dataset as_zero = read_libsvm(zero, {{"zero_based", "true"}});
  const Dataset got = read_selected(zero, {{"zero_based", "auto"}}, first_row_only);
  EXPECT_EQ(got.cols, as_zero.cols);
  EXPECT_EQ(got.view().row(0).index[0], as_zero.view().row(0).index[0]);
  // An error on a row not kept is the whole read's error, line and column.
  const fs::path bad = dir_.write("bad.svm", text + "1 3:1 2:1\n");
  std::string whole_error;
  try {
    read_libsvm(bad);
  } catch (const DataError& e) {
    whole_error = e.what();
  }
  ASSERT_NE(whole_error.find("ascending"), std::string::npos) << whole_error;
  try {
    read_selected(bad, {}, first_row_only);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), whole_error);
  }
}

TEST(LibsvmParams, RejectsBadChunkBytes) {
  for (const char* bad : {"0", "-5", "big"}) {
    try {
      read_libsvm("unused.svm", {{"chunk_bytes", bad}});
      ADD_FAILURE() << "no ParamError for " << bad;
    } catch (const localsgd::ParamError& e) {
      EXPECT_NE(std::string(e.what()).find("chunk_bytes"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
