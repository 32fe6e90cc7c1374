// Tests of the binary cache format (sdk/binary_format.hpp) and its reader plugin `bin`:
// the checksum is XXH64, a Dataset survives write/read exactly, and every truncated,
// corrupted or crafted file is refused with exit 3 and a message saying what is wrong.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "localsgd/binary_format.hpp"
#include "localsgd/core/loading.hpp"
#include "test_support.hpp"

namespace {

namespace binary = localsgd::binary;
using localsgd::DataError;
using localsgd::Dataset;
using localsgd::testing::read_text;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

std::string encode(const Dataset& data) {
  std::ostringstream out(std::ios::binary);
  binary::write_binary(out, data);
  return out.str();
}

// Rows: {0: 0 (explicit zero), 2: 1e-300}, {}, {1: -2.5, 3: 5e-324}; an odd nnz (padding).
Dataset tricky() {
  Dataset d;
  d.row_ptr = {0, 2, 2, 5};
  d.index = {0, 2, 0, 1, 3};
  d.value = {0.0, 1e-300, -0.0, -2.5, 5e-324};
  d.label = {1, -1, 2.5};
  d.cols = 4;
  return d;
}

void expect_same(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.row_ptr, b.row_ptr);
  EXPECT_EQ(a.index, b.index);
  ASSERT_EQ(a.value.size(), b.value.size());
  for (std::size_t i = 0; i < a.value.size(); ++i)  // bitwise: -0.0 must stay -0.0
    EXPECT_EQ(std::memcmp(&a.value[i], &b.value[i], sizeof(double)), 0) << i;
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.cols, b.cols);
}

std::string parse_error(const std::string& image) {
  try {
    binary::parse_binary(image.data(), image.size(), "f.bin");
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

TEST(BinaryFormat, ChecksumIsXxh64) {
  // Reference values of XXH64 with seed 0.
  EXPECT_EQ(binary::hash64("", 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(binary::hash64("a", 1), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(binary::hash64("abc", 3), 0x44BC2CF5AD770999ULL);
  const std::string long_text = "LSGDCSR binary format, a test vector of more than 32 bytes.";
  EXPECT_EQ(binary::hash64(long_text.data(), long_text.size()), 0x6A0D67932EF4EB33ULL);
  // Incremental hashing in uneven pieces gives the same digest.
  binary::Hasher h;
  for (std::size_t i = 0; i < long_text.size(); i += 7)
    h.update(long_text.data() + i, std::min<std::size_t>(7, long_text.size() - i));
  EXPECT_EQ(h.digest(), 0x6A0D67932EF4EB33ULL);
}

TEST(BinaryFormat, LayoutIsAlignedAndSizedAsDocumented) {
  const std::string image = encode(tricky());
  ASSERT_GE(image.size(), binary::kHeaderBytes);
  EXPECT_EQ(image.substr(0, 8), std::string("LSGDCSR\0", 8));
  const binary::Header h = binary::read_header(image.data(), image.size(), "f.bin");
  EXPECT_EQ(h.version, 1u);
  EXPECT_EQ(h.rows, 3);
  EXPECT_EQ(h.cols, 4);
  EXPECT_EQ(h.nnz, 5);
  EXPECT_EQ(h.label_offset, 96u);
  EXPECT_EQ(h.row_ptr_offset, 96u + 3 * 8);
  EXPECT_EQ(h.value_offset, 96u + 3 * 8 + 4 * 8);
  EXPECT_EQ(h.index_offset, 96u + 3 * 8 + 4 * 8 + 5 * 8);
  EXPECT_EQ(h.data_bytes, 3u * 8 + 4 * 8 + 5 * 8 + 5 * 4 + 4);  // padded to 8
  EXPECT_EQ(image.size(), 96 + h.data_bytes);
}

TEST(BinaryFormat, RoundTripIsExact) {
  const Dataset original = tricky();
  const std::string image = encode(original);
  const Dataset back = binary::parse_binary(image.data(), image.size(), "f.bin");
  expect_same(original, back);
  EXPECT_EQ(back.source, "f.bin");

  Dataset no_entries;  // labels only, no columns
  no_entries.row_ptr = {0, 0, 0};
  no_entries.label = {1, 0};
  const std::string small = encode(no_entries);
  expect_same(no_entries, binary::parse_binary(small.data(), small.size(), "f.bin"));
}

TEST(BinaryFormat, ValidChecksumsDoNotMakeABrokenMatrixTrusted) {
  Dataset bad = tricky();
  bad.index[1] = 4;  // == cols
  EXPECT_EQ(parse_error(encode(bad)),
            "invalid data in row 1: column indices not ascending or not below cols");
  bad = tricky();
  bad.index = {2, 0, 0, 1, 3};
  EXPECT_EQ(parse_error(encode(bad)),
            "invalid data in row 1: column indices not ascending or not below cols");
  bad = tricky();
  bad.row_ptr = {0, 2, 1, 5};
  EXPECT_EQ(parse_error(encode(bad)), "invalid data in row 2: row pointers out of order or range");
  bad = tricky();
  bad.value[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(parse_error(encode(bad)), "invalid data in row 3: value is not finite");
}

// The checks run chunk by chunk (16,384 indices each): rows that straddle a chunk
// boundary must be judged as wholes.
TEST(BinaryFormat, StructureChecksSpanChunkBoundaries) {
  Dataset big;
  big.cols = 10;
  // Rows of 7 entries: entries 16,383 and 16,384 (0-based) are both in row 2,341.
  for (std::int32_t r = 0; r < 7000; ++r) {
    for (std::int32_t j = 0; j < 7; ++j) {
      big.index.push_back(j + 3 * (r % 2));
      big.value.push_back(1.0 + j);
    }
    big.row_ptr.push_back(static_cast<std::int64_t>(big.index.size()));
    big.label.push_back(r % 3);
  }
  std::string image = encode(big);
  expect_same(big, binary::parse_binary(image.data(), image.size(), "f.bin"));

  Dataset bad = big;
  bad.index[16384] = bad.index[16383];  // a repeat inside row 2341 (1-based)
  EXPECT_EQ(parse_error(encode(bad)),
            "invalid data in row 2341: column indices not ascending or not below cols");
  bad = big;
  bad.value[40000] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(parse_error(encode(bad)), "invalid data in row 5715: value is not finite");
}

TEST(BinaryFormat, AnotherVersionIsNamedWhenItsHeaderIsIntact) {
  std::string image = encode(tricky());
  const std::uint32_t version = 2;
  std::memcpy(image.data() + 8, &version, 4);
  const std::uint64_t checksum = binary::hash64(image.data(), 88);
  std::memcpy(image.data() + 88, &checksum, 8);
  EXPECT_EQ(parse_error(image),
            "unsupported format version 2 (this build reads 1); re-create the file with "
            "`localsgd data convert`");
}

// Through the CLI, as a user meets them: exit 3, one line, the file and what is wrong.
class BinFileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = encode(tricky());
    ASSERT_EQ(image_.size(), 96u + 120);
  }

  localsgd::testing::CliResult inspect(const std::string& content) const {
    const auto path = dir_.write("data.bin", content);
    return run_cli({"data", "inspect", path.string()});
  }

  void expect_refused(const std::string& content, const std::string& message) const {
    const auto r = inspect(content);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.err,
              "localsgd: error: " + (dir_.path() / "data.bin").string() + ": " + message + "\n");
  }

  std::string flipped(std::size_t offset) const {
    std::string copy = image_;
    copy[offset] = static_cast<char>(copy[offset] ^ 0x10);
    return copy;
  }

  TempDir dir_;
  std::string image_;
};

TEST_F(BinFileCli, AnIntactFileLoads) {
  const auto r = inspect(image_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nnz"), std::string::npos);
}

TEST_F(BinFileCli, TruncatedFilesSayHowMuchIsMissing) {
  expect_refused("", "empty file, expected a localsgd binary data file");
  for (std::size_t n : {1, 8, 15, 16, 60, 95})
    expect_refused(image_.substr(0, n),
                   "truncated: the header needs 96 bytes, file has " + std::to_string(n));
  for (std::size_t n : {96, 97, 150, 215})
    expect_refused(image_.substr(0, n),
                   "truncated: header says 120 bytes of data, file has " + std::to_string(n - 96));
  expect_refused(image_ + "x",
                 "header says 120 bytes of data, file has 121 (trailing bytes): "
                 "the file is corrupted");
}

TEST_F(BinFileCli, AFlippedByteIsCaughtWhereverItIs) {
  expect_refused(flipped(0),
                 "not a localsgd binary data file (no LSGDCSR magic); convert text with "
                 "`localsgd data convert IN OUT.bin`");
  for (std::size_t offset : {8, 16, 24, 40, 72, 80, 90})
    expect_refused(flipped(offset), "header checksum mismatch: the file is corrupted");
  for (std::size_t offset : {96, 130, 190, 211, 215})  // labels, row_ptr, values, indices, pad
    expect_refused(flipped(offset), "payload checksum mismatch: the file is corrupted");
}

TEST_F(BinFileCli, ATextFileIsNotABinaryFile) {
  expect_refused("1 1:1\n",
                 "not a localsgd binary data file (no LSGDCSR magic); convert text "
                 "with `localsgd data convert IN OUT.bin`");
}

TEST(BinReader, LoadsWhatWriteBinaryWrote) {
  TempDir dir;
  const Dataset original = tricky();
  const auto path = dir.path() / "t.bin";
  {
    std::ofstream out(path, std::ios::binary);
    binary::write_binary(out, original);
  }
  // By suffix, and by name for any suffix.
  expect_same(original, localsgd::core::load_dataset(path.string(), "", {}));
  std::filesystem::copy_file(path, dir.path() / "t.cache");
  expect_same(original, localsgd::core::load_dataset((dir.path() / "t.cache").string(), "bin", {}));
  EXPECT_EQ(read_text(path).size(), 96u + 120);
}

}  // namespace
