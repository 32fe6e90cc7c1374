// The binary cache format for a data set: CSR arrays as they lie in memory, behind a
// versioned, checksummed header, so that a reload maps the file and checks it instead of
// parsing text (`localsgd data convert w8a w8a.bin`, then `--data w8a.bin`). The core
// writes it (`data convert`), the bin reader plugin reads it; both use the definitions
// here, which are the format's one description.
//
// Layout, version 2 (all integers little-endian; doubles IEEE 754 binary64):
//
//   offset  size  field
//        0     8  magic "LSGDCSR\0"
//        8     4  format version (2)
//       12     4  header size in bytes (96)
//       16     8  rows                        (int64)
//       24     8  cols                        (int64)
//       32     8  nnz                         (int64)
//       40     8  byte offset of the labels   rows     x double
//       48     8  byte offset of row_ptr      rows + 1 x int64
//       56     8  byte offset of the values   nnz      x double
//       64     8  byte offset of the indices  nnz      x int32 (0-based columns)
//       72     8  data bytes: everything after the header (arrays + zero padding to 8)
//       80     8  data checksum (below)
//       88     8  header checksum: XXH3-64 (seed 0) of header bytes 0..87
//       96        the arrays, in the order above, each starting 8-byte aligned
//
// The data checksum is XXH3-64 (seed 0) of the block digests: the data bytes are cut into
// blocks of kBlockBytes (the last one shorter), each block is hashed with XXH3-64 (seed 0)
// and the digests, as little-endian uint64 in block order, are hashed once more. Blocks
// can be hashed in parallel, which one XXH3 over everything could not be.
//
// A reader trusts nothing: magic, version, header checksum, the sizes against the file
// length (read_header below), then the data checksum and the CSR structure itself (row_ptr
// monotone, indices ascending and < cols, finite numbers) are all checked before a data
// set is returned. Version 1 (an XXH64 checksum over all data bytes) is refused with a
// request to re-create the file.
//
// Every version starts with magic, version and header size (offsets 0..15) and ends its
// header with the checksum of the header bytes before it.
//
// The SDK computes no checksum itself (it would need libxxhash): the functions below take
// the hash, XXH3_64bits of <xxhash.h> (seed 0), as a parameter. Not part of sdk.hpp.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "localsgd/errors.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace localsgd::binary_cache {

#if defined(__x86_64__)
// Call after libxxhash's run-time dispatched XXH3 (xxh_x86dispatch.h): its AVX2/AVX-512
// code returns with the upper halves of the vector registers dirty, and until something
// clears them every SSE instruction of the process (we compile for SSE2) carries a false
// dependency on them. Measured: a logreg run that had hashed its data and plugins computed
// exp() 4 times slower for the rest of its life.
__attribute__((target("avx"))) inline void zero_upper_vector_registers() {
  _mm256_zeroupper();
}
inline void clear_vector_state() {
  static const bool avx = __builtin_cpu_supports("avx");
  if (avx) zero_upper_vector_registers();
}
#else
inline void clear_vector_state() {}
#endif

static_assert(std::endian::native == std::endian::little, "the format is little-endian");

// The hash of every checksum in the format: XXH3-64 with seed 0 (XXH3_64bits).
using Hash64 = std::uint64_t (*)(const void* data, std::size_t bytes);

inline constexpr std::array<char, 8> kMagic = {'L', 'S', 'G', 'D', 'C', 'S', 'R', '\0'};
inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::size_t kHeaderBytes = 96;
// Large enough that a block's hash dwarfs the cost of scheduling it, small enough that a
// block stays in L2 between being hashed and being checked.
inline constexpr std::size_t kBlockBytes = std::size_t{256} << 10;

struct Header {
  std::uint32_t version = kVersion;
  std::uint32_t header_bytes = kHeaderBytes;
  std::int64_t rows = 0, cols = 0, nnz = 0;
  std::uint64_t label_offset = 0, row_ptr_offset = 0, value_offset = 0, index_offset = 0;
  std::uint64_t data_bytes = 0;
  std::uint64_t data_checksum = 0;
  // No header checksum: encode_header computes it, read_header checks it.
};

namespace detail {

inline std::uint64_t align8(std::uint64_t n) {
  return (n + 7) & ~std::uint64_t{7};
}

template <class T>
void put(unsigned char* out, std::size_t offset, T value) {
  std::memcpy(out + offset, &value, sizeof value);
}
template <class T>
T get(const unsigned char* in, std::size_t offset) {
  T value;
  std::memcpy(&value, in + offset, sizeof value);
  return value;
}

}  // namespace detail

// The version-2 header of a rows x cols data set with nnz entries, offsets filled in;
// the checksums are left to the writer.
inline Header layout(std::int64_t rows, std::int64_t cols, std::int64_t nnz) {
  Header h;
  h.rows = rows;
  h.cols = cols;
  h.nnz = nnz;
  const auto r = static_cast<std::uint64_t>(rows), n = static_cast<std::uint64_t>(nnz);
  h.label_offset = kHeaderBytes;
  h.row_ptr_offset = h.label_offset + 8 * r;
  h.value_offset = h.row_ptr_offset + 8 * (r + 1);
  h.index_offset = h.value_offset + 8 * n;
  h.data_bytes = detail::align8(h.index_offset + 4 * n) - kHeaderBytes;
  return h;
}

// The number of checksum blocks of `data_bytes` data bytes.
inline std::size_t block_count(std::uint64_t data_bytes) {
  return static_cast<std::size_t>((data_bytes + kBlockBytes - 1) / kBlockBytes);
}

// The data checksum from the digests of the blocks, in block order.
inline std::uint64_t data_checksum(const std::uint64_t* digests, std::size_t blocks, Hash64 hash) {
  return hash(digests, blocks * sizeof(std::uint64_t));
}

// The 96 header bytes; the header checksum is computed here over the first 88.
inline std::array<unsigned char, kHeaderBytes> encode_header(const Header& h, Hash64 hash) {
  using detail::put;
  std::array<unsigned char, kHeaderBytes> out{};
  unsigned char* b = out.data();
  std::memcpy(b, kMagic.data(), kMagic.size());
  put(b, 8, h.version);
  put(b, 12, h.header_bytes);
  put(b, 16, h.rows);
  put(b, 24, h.cols);
  put(b, 32, h.nnz);
  put(b, 40, h.label_offset);
  put(b, 48, h.row_ptr_offset);
  put(b, 56, h.value_offset);
  put(b, 64, h.index_offset);
  put(b, 72, h.data_bytes);
  put(b, 80, h.data_checksum);
  put(b, 88, hash(b, 88));
  return out;
}

// Checks the header of a file image of `size` bytes against the file itself: magic,
// version, header checksum, sizes and offsets. Throws DataError naming `file` and what
// is wrong; the data checksum and the arrays are left to the reader.
inline Header read_header(const void* image, std::size_t size, const std::string& file,
                          Hash64 hash) {
  using detail::get;
  const auto* b = static_cast<const unsigned char*>(image);
  const auto fail = [&file](const std::string& what) { throw DataError(file, 0, 0, what); };
  const std::size_t magic_seen = std::min(size, kMagic.size());
  if (size == 0) fail("empty file, expected a localsgd binary data file");
  if (std::memcmp(b, kMagic.data(), magic_seen) != 0)
    fail(
        "not a localsgd binary data file (no LSGDCSR magic); convert text with "
        "`localsgd data convert IN OUT.bin`");
  // Every version keeps magic, version and header size at offsets 0..15 and ends its
  // header with the checksum of the bytes before it, so a newer version can be told from
  // a corrupted file before the rest of the header is interpreted.
  constexpr std::size_t kPrefixBytes = 16, kMaxHeaderBytes = 4096;
  const std::size_t header_bytes = size >= kPrefixBytes ? get<std::uint32_t>(b, 12) : kHeaderBytes;
  if (header_bytes < kPrefixBytes + 8 || header_bytes > kMaxHeaderBytes || header_bytes % 8 != 0)
    fail("header checksum mismatch: the file is corrupted (impossible header size " +
         std::to_string(header_bytes) + ")");
  if (size < header_bytes)
    fail("truncated: the header needs " + std::to_string(header_bytes) + " bytes, file has " +
         std::to_string(size));
  const std::uint32_t version = get<std::uint32_t>(b, 8);
  const auto unsupported = [&] {
    fail("unsupported format version " + std::to_string(version) + " (this build reads " +
         std::to_string(kVersion) + "); re-create the file with `localsgd data convert`");
  };
  if (hash(b, header_bytes - 8) != get<std::uint64_t>(b, header_bytes - 8)) {
    // Version 1 checksummed its header with XXH64, which is not computed here: an old
    // cache is worth naming as such rather than as corrupted.
    if (version == 1 && header_bytes == kHeaderBytes) unsupported();
    fail("header checksum mismatch: the file is corrupted");
  }

  Header h;
  h.version = version;
  if (h.version != kVersion) unsupported();
  // Only now is the header known to be version 2's 96 bytes, all of them in the file: a
  // crafted shorter one with a valid checksum must not make us read past its end.
  if (header_bytes != kHeaderBytes)
    fail("invalid header (size " + std::to_string(header_bytes) + ", version 2 has " +
         std::to_string(kHeaderBytes) + "): the file is corrupted");
  h.header_bytes = get<std::uint32_t>(b, 12);
  h.rows = get<std::int64_t>(b, 16);
  h.cols = get<std::int64_t>(b, 24);
  h.nnz = get<std::int64_t>(b, 32);
  h.label_offset = get<std::uint64_t>(b, 40);
  h.row_ptr_offset = get<std::uint64_t>(b, 48);
  h.value_offset = get<std::uint64_t>(b, 56);
  h.index_offset = get<std::uint64_t>(b, 64);
  h.data_bytes = get<std::uint64_t>(b, 72);
  h.data_checksum = get<std::uint64_t>(b, 80);

  // A header with a valid checksum was written by a writer: these only fail for a
  // deliberately crafted file, but a crafted file must not make us read out of bounds.
  constexpr auto kMaxCount = std::int64_t{1} << 56;  // keeps every byte count below 2^63
  if (h.rows < 0 || h.rows >= kMaxCount || h.nnz < 0 || h.nnz >= kMaxCount || h.cols < 0 ||
      h.cols > std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1)
    fail("invalid header (sizes out of range): the file is corrupted");
  const Header expected = layout(h.rows, h.cols, h.nnz);
  if (h.label_offset != expected.label_offset || h.row_ptr_offset != expected.row_ptr_offset ||
      h.value_offset != expected.value_offset || h.index_offset != expected.index_offset ||
      h.data_bytes != expected.data_bytes)
    fail("invalid header (array offsets do not match rows and nnz): the file is corrupted");

  const std::uint64_t have = size - kHeaderBytes;
  if (have < h.data_bytes)
    fail("truncated: header says " + std::to_string(h.data_bytes) + " bytes of data, file has " +
         std::to_string(have));
  if (have > h.data_bytes)
    fail("header says " + std::to_string(h.data_bytes) + " bytes of data, file has " +
         std::to_string(have) + " (trailing bytes): the file is corrupted");
  return h;
}

}  // namespace localsgd::binary_cache
