// Tests of the binary cache format (the SDK's binary_cache.hpp), its writer in the core
// (core/binary_format.hpp) and its reader plugin `bin` (binary_validation.hpp):
// the checksums are XXH3 as documented, a Dataset survives write/read exactly, the reader
// lends the mapped file without copying, and every truncated, corrupted or crafted file
// is refused with exit 3 and a message saying what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <tbb/global_control.h>
#include <xxhash.h>

#include "binary_validation.hpp"
#include "localsgd/binary_cache.hpp"
#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/data/data_writers.hpp"
#include "localsgd/core/data/loading.hpp"
#include "test_support.hpp"

namespace {

namespace binary = localsgd::core::binary;
namespace cache = localsgd::binary_cache;
using localsgd::DataError;
using localsgd::Dataset;
using localsgd::DataView;
using localsgd::testing::expect_same_data;
using localsgd::testing::read_text;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

std::string encode(const Dataset& data) {
  std::ostringstream out(std::ios::binary);
  binary::write_binary(out, data.view());
  return out.str();
}

// validate_binary wants an 8-byte aligned image, as a mapping is.
class AlignedImage {
 public:
  explicit AlignedImage(const std::string& bytes)
      : words_((bytes.size() + 7) / 8), size_(bytes.size()) {
    std::memcpy(words_.data(), bytes.data(), bytes.size());
  }
  DataView validate() const {
    return localsgd::readers::validate_binary(words_.data(), size_, "f.bin");
  }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_;
};

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

void expect_round_trip(const Dataset& data) {
  const AlignedImage image(encode(data));
  expect_same_data(image.validate(), data.view());
}

std::string parse_error(const std::string& bytes) {
  try {
    AlignedImage(bytes).validate();
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

TEST(BinaryFormat, ChecksumIsXxh3) {
  // Reference values of XXH3-64 with seed 0, from `xxhsum -H3` (xxHash 0.8.1), for the
  // writer's hash (the core's) and the reader's (the bin plugin's).
  const std::string long_text = "LSGDCSR binary format, a test vector of more than 32 bytes.";
  for (const cache::Hash64 hash : {&binary::hash64, &localsgd::readers::xxh3_64}) {
    EXPECT_EQ(hash("", 0), 0x2D06800538D394C2ULL);
    EXPECT_EQ(hash("a", 1), 0xE6C632B61E964E1FULL);
    EXPECT_EQ(hash("abc", 3), 0x78AF5F94892F3950ULL);
    EXPECT_EQ(hash(long_text.data(), long_text.size()), 0xC371058E5FB7E889ULL);
    EXPECT_EQ(hash(std::string(300, 'x').data(), 300), 0xA5D1B4607DC83554ULL);
  }
}

// A data set whose data bytes span several checksum blocks: 9 entries per row.
Dataset several_blocks(std::int32_t rows) {
  Dataset big;
  big.cols = 12;
  for (std::int32_t r = 0; r < rows; ++r) {
    for (std::int32_t j = 0; j < 9; ++j) {
      big.index.push_back(j + 3 * (r % 2));
      big.value.push_back(1.0 + j + r);
    }
    big.row_ptr.push_back(static_cast<std::int64_t>(big.index.size()));
    big.label.push_back(r % 3);
  }
  return big;
}

// The data checksum as documented, computed here from the file bytes with the library's
// one-shot XXH3: independent of the writer's incremental block hashing.
TEST(BinaryFormat, DataChecksumHashesTheDigestsOfFixedBlocks) {
  const std::string image = encode(several_blocks(30000));
  const std::size_t data_bytes = image.size() - cache::kHeaderBytes;
  ASSERT_GT(data_bytes, 3 * cache::kBlockBytes);  // a few blocks, the last one partial
  ASSERT_NE(data_bytes % cache::kBlockBytes, 0u);
  std::vector<std::uint64_t> digests;
  for (std::size_t at = 0; at < data_bytes; at += cache::kBlockBytes)
    digests.push_back(XXH3_64bits(image.data() + cache::kHeaderBytes + at,
                                  std::min(cache::kBlockBytes, data_bytes - at)));
  std::uint64_t stored;
  std::memcpy(&stored, image.data() + 80, 8);
  EXPECT_EQ(stored, XXH3_64bits(digests.data(), digests.size() * 8));
  std::uint64_t header_checksum;
  std::memcpy(&header_checksum, image.data() + 88, 8);
  EXPECT_EQ(header_checksum, XXH3_64bits(image.data(), 88));
}

TEST(BinaryFormat, LayoutIsAlignedAndSizedAsDocumented) {
  const std::string image = encode(tricky());
  ASSERT_GE(image.size(), cache::kHeaderBytes);
  EXPECT_EQ(image.substr(0, 8), std::string("LSGDCSR\0", 8));
  const cache::Header h = cache::read_header(image.data(), image.size(), "f.bin", binary::hash64);
  EXPECT_EQ(h.version, 2u);
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
  expect_round_trip(tricky());
  Dataset no_entries;  // labels only, no columns
  no_entries.row_ptr = {0, 0, 0};
  no_entries.label = {1, 0};
  expect_round_trip(no_entries);
  expect_round_trip(several_blocks(30000));
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

// Blocks are hashed and checked separately, in parallel: rows that straddle a block
// boundary must be judged as wholes, and the first problem in the file is the one
// reported, whatever the number of threads.
TEST(BinaryFormat, StructureChecksSpanBlockBoundaries) {
  const Dataset big = several_blocks(29000);
  const cache::Header h = cache::layout(big.rows(), big.cols, big.nnz());
  // The first entry of the first block that starts inside an array.
  const auto first_in_block = [&](std::uint64_t offset, std::size_t size) {
    const auto start = static_cast<std::size_t>(offset - cache::kHeaderBytes);
    return ((start / cache::kBlockBytes + 1) * cache::kBlockBytes - start) / size;
  };
  const std::size_t first = first_in_block(h.index_offset, 4);
  const std::size_t first_value = first_in_block(h.value_offset, 8);
  ASSERT_LT(first, big.index.size());
  ASSERT_LT(first_value, big.value.size());
  ASSERT_NE(first % 9, 0u);  // inside a row (rows have 9 entries)
  const auto row = std::to_string(first / 9 + 1);

  // The images do not depend on the thread count: encode each once, validate it with each.
  const auto encoded_with = [&](const std::function<void(Dataset&)>& damage) {
    Dataset bad = big;
    damage(bad);
    return encode(bad);
  };
  const std::string repeat = encoded_with([&](Dataset& d) {
    d.index[first] = d.index[first - 1];  // a repeat across the boundary
  });
  const std::string negative = encoded_with([&](Dataset& d) { d.index[first] = -1; });
  const std::string intact = encode(big);
  // Two problems in different blocks: the one earlier in the file wins.
  const std::string two_problems = encoded_with([&](Dataset& d) {
    d.value[first_value] = std::numeric_limits<double>::infinity();
    d.index[first] = 12;  // == cols, later in the file
  });
  const std::string short_row_ptr = encoded_with([&](Dataset& d) {
    d.row_ptr[29000] = d.row_ptr[28999];  // the last row_ptr is no longer nnz
  });

  for (const int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    const tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(threads));
    EXPECT_EQ(parse_error(repeat),
              "invalid data in row " + row + ": column indices not ascending or not below cols");
    EXPECT_EQ(parse_error(negative),
              "invalid data in row " + row + ": column indices not ascending or not below cols");
    EXPECT_EQ(parse_error(intact), "no error");  // every row start is a descent
    EXPECT_EQ(
        parse_error(two_problems),
        "invalid data in row " + std::to_string(first_value / 9 + 1) + ": value is not finite");
    EXPECT_EQ(parse_error(short_row_ptr),
              "invalid data in row 29000: row pointers do not end at nnz");
  }
}

TEST(BinaryFormat, AnotherVersionIsNamedWhenItsHeaderIsIntact) {
  std::string image = encode(tricky());
  const std::uint32_t version = 3;
  std::memcpy(image.data() + 8, &version, 4);
  const std::uint64_t checksum = binary::hash64(image.data(), 88);
  std::memcpy(image.data() + 88, &checksum, 8);
  EXPECT_EQ(parse_error(image),
            "unsupported format version 3 (this build reads 2); re-create the file with "
            "`localsgd data convert`");
}

// A header whose checksum is valid but which is shorter than version 2's is refused
// before any field beyond it is read (the image below is exactly 24 bytes).
TEST(BinaryFormat, AShortCraftedHeaderIsRefused) {
  std::string image(24, '\0');
  std::memcpy(image.data(), "LSGDCSR", 8);
  const std::uint32_t version = 2, header_bytes = 24;
  std::memcpy(image.data() + 8, &version, 4);
  std::memcpy(image.data() + 12, &header_bytes, 4);
  const std::uint64_t checksum = binary::hash64(image.data(), 16);
  std::memcpy(image.data() + 16, &checksum, 8);
  EXPECT_EQ(parse_error(image),
            "invalid header (size 24, version 2 has 96): the file is corrupted");
}

// Data bytes that fill their last block exactly: the writer must not add an empty block.
TEST(BinaryFormat, DataBytesOfExactlyOneBlock) {
  Dataset d;
  d.cols = 3;
  for (std::int64_t r = 0; r < 16382; ++r) {
    if (r == 0) {
      d.index = {0, 2};
      d.value = {1.5, -2};
    }
    d.row_ptr.push_back(static_cast<std::int64_t>(d.index.size()));
    d.label.push_back(r % 2);
  }
  const std::string image = encode(d);
  ASSERT_EQ(image.size() - cache::kHeaderBytes, cache::kBlockBytes);
  const std::uint64_t digest = XXH3_64bits(image.data() + cache::kHeaderBytes, cache::kBlockBytes);
  std::uint64_t stored;
  std::memcpy(&stored, image.data() + 80, 8);
  EXPECT_EQ(stored, XXH3_64bits(&digest, 8));
  expect_round_trip(d);
}

// Version 1 checksummed its header with XXH64: its files are named as old, not corrupt.
TEST(BinaryFormat, AVersionOneFileIsNamedAsSuch) {
  std::string image = encode(tricky());
  const std::uint32_t version = 1;
  std::memcpy(image.data() + 8, &version, 4);  // header checksum now wrong for XXH3
  EXPECT_EQ(parse_error(image),
            "unsupported format version 1 (this build reads 2); re-create the file with "
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
  localsgd::core::write_data_file(path, original, localsgd::core::DataFormat::bin);
  // By suffix, and by name for any suffix.
  expect_same_data(localsgd::core::load_dataset(path.string(), "", {}).view(), original.view());
  std::filesystem::copy_file(path, dir.path() / "t.cache");
  expect_same_data(
      localsgd::core::load_dataset((dir.path() / "t.cache").string(), "bin", {}).view(),
      original.view());
  EXPECT_EQ(read_text(path).size(), 96u + 120);
}

// The reader copies nothing: the data set views the mapped file and keeps it alive, also
// in copies, and after the file is replaced (as `data convert` replaces it: a new file
// renamed over the old) or removed.
TEST(BinReader, LendsTheMappedFileAndKeepsItAlive) {
  TempDir dir;
  const Dataset original = several_blocks(3000);
  const auto path = dir.path() / "t.bin";
  localsgd::core::write_data_file(path, original, localsgd::core::DataFormat::bin);
  std::optional<Dataset> loaded = localsgd::core::load_dataset(path.string(), "bin", {});
  ASSERT_TRUE(loaded->is_external());
  EXPECT_TRUE(loaded->value.empty());  // nothing copied into the vectors
  const Dataset copy = *loaded;
  loaded.reset();
  localsgd::core::write_data_file(path, tricky(), localsgd::core::DataFormat::bin);
  expect_same_data(copy.view(), original.view());
  std::filesystem::remove(path);
  expect_same_data(copy.view(), original.view());
  EXPECT_EQ(copy.source, path.string());

  Dataset owned = copy;  // make_owned copies into the vectors and lets the mapping go
  owned.make_owned();
  EXPECT_FALSE(owned.is_external());
  EXPECT_EQ(owned.value.size(), original.value.size());
  expect_same_data(owned.view(), original.view());
}

// A run on the cache is the run on the text, bit for bit: same rows, same order.
TEST(BinReader, TrainingOnTheCacheEqualsTrainingOnTheText) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 300; ++i)
    rows += std::string(i % 3 == 0 ? "+1" : "-1") + " 1:" + std::to_string(0.01 * (i % 17)) +
            " 3:" + std::to_string(0.1 * (i % 5)) + (i % 4 == 0 ? " 7:-2.5" : "") + "\n";
  const auto text = dir.write("train.svm", rows);
  const auto bin = dir.path() / "train.bin";
  ASSERT_EQ(run_cli({"data", "convert", text.string(), bin.string()}).exit_code, 0);
  const auto train = [&](const std::filesystem::path& data, const std::string& model) {
    const auto r = run_cli({"train", "--plugin", "logreg", "--data", data.string(), "-K", "3",
                            "--steps", "300", "--out", (dir.path() / model).string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_text(dir.path() / model);
  };
  const std::string from_text = train(text, "text.model");
  ASSERT_NE(from_text.find("logreg"), std::string::npos);
  const std::string from_bin = train(bin, "bin.model");
  EXPECT_EQ(from_text, from_bin);
}

}  // namespace
