// The binary cache format for a Dataset: CSR arrays as they lie in memory, behind a
// versioned, checksummed header, so that reloading a data set costs a copy instead of a
// text parse (`localsgd data convert w8a w8a.bin`, then `--data w8a.bin`).
//
// Layout, version 1 (all integers little-endian; doubles IEEE 754 binary64):
//
//   offset  size  field
//        0     8  magic "LSGDCSR\0"
//        8     4  format version (1)
//       12     4  header size in bytes (96)
//       16     8  rows                        (int64)
//       24     8  cols                        (int64)
//       32     8  nnz                         (int64)
//       40     8  byte offset of the labels   rows     x double
//       48     8  byte offset of row_ptr      rows + 1 x int64
//       56     8  byte offset of the values   nnz      x double
//       64     8  byte offset of the indices  nnz      x int32 (0-based columns)
//       72     8  data bytes: everything after the header (arrays + zero padding to 8)
//       80     8  checksum of those data bytes (hash64 below)
//       88     8  checksum of header bytes 0..87
//       96        the arrays, in the order above, each starting 8-byte aligned
//
// The reader trusts nothing: magic, version, header checksum, the sizes against the file
// length, the data checksum and then the CSR structure itself (row_ptr monotone, indices
// ascending and < cols, finite numbers) are all checked before a Dataset is returned.
//
// Every version starts with magic, version and header size (offsets 0..15) and ends its
// header with the checksum of the header bytes before it.
//
// The checksum is XXH64 (seed 0), word-wise: several GB/s, so checking it keeps a reload
// far faster than parsing text, unlike a byte-wise hash such as FNV-1a.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::binary {

inline constexpr std::array<char, 8> kMagic = {'L', 'S', 'G', 'D', 'C', 'S', 'R', '\0'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 96;

// ---------------------------------------------------------------------------------------
// XXH64, in one pass (hash64) or incrementally (Hasher), with identical results.

namespace detail {
inline constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ULL;
inline constexpr std::uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
inline constexpr std::uint64_t kP3 = 0x165667B19E3779F9ULL;
inline constexpr std::uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
inline constexpr std::uint64_t kP5 = 0x27D4EB2F165667C5ULL;

// XXH64 reads little-endian words, as does the whole format (see put/get below).
inline std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint32_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline std::uint64_t xxh_round(std::uint64_t acc, std::uint64_t input) {
  return std::rotl(acc + input * kP2, 31) * kP1;
}
inline std::uint64_t merge(std::uint64_t acc, std::uint64_t lane) {
  return (acc ^ xxh_round(0, lane)) * kP1 + kP4;
}
}  // namespace detail

class Hasher {
 public:
  void update(const void* data, std::size_t bytes) {
    if (bytes == 0) return;  // `data` may then be null, which memcpy must not see
    auto p = static_cast<const unsigned char*>(data);
    total_ += bytes;
    if (buffered_ > 0) {  // complete the pending 32-byte stripe first
      const std::size_t take = std::min(bytes, buffer_.size() - buffered_);
      std::memcpy(buffer_.data() + buffered_, p, take);
      buffered_ += take;
      p += take;
      bytes -= take;
      if (buffered_ < buffer_.size()) return;
      stripe(buffer_.data());
      buffered_ = 0;
    }
    if (bytes >= 32) {  // the bulk: lanes in registers (stores to v_ could alias *p)
      std::uint64_t v0 = v_[0], v1 = v_[1], v2 = v_[2], v3 = v_[3];
      for (; bytes >= 32; p += 32, bytes -= 32) {
        v0 = detail::xxh_round(v0, detail::load64(p));
        v1 = detail::xxh_round(v1, detail::load64(p + 8));
        v2 = detail::xxh_round(v2, detail::load64(p + 16));
        v3 = detail::xxh_round(v3, detail::load64(p + 24));
      }
      v_ = {v0, v1, v2, v3};
    }
    std::memcpy(buffer_.data(), p, bytes);
    buffered_ = bytes;
  }

  std::uint64_t digest() const {
    using namespace detail;
    std::uint64_t h = total_ >= 32 ? std::rotl(v_[0], 1) + std::rotl(v_[1], 7) +
                                         std::rotl(v_[2], 12) + std::rotl(v_[3], 18)
                                   : kP5;  // seed 0
    if (total_ >= 32)
      for (std::uint64_t v : v_) h = merge(h, v);
    h += total_;
    const unsigned char* p = buffer_.data();
    std::size_t left = buffered_;
    for (; left >= 8; p += 8, left -= 8) h = std::rotl(h ^ xxh_round(0, load64(p)), 27) * kP1 + kP4;
    if (left >= 4) {
      h = std::rotl(h ^ (std::uint64_t{load32(p)} * kP1), 23) * kP2 + kP3;
      p += 4;
      left -= 4;
    }
    for (; left > 0; ++p, --left) h = std::rotl(h ^ (*p * kP5), 11) * kP1;
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    h ^= h >> 32;
    return h;
  }

 private:
  void stripe(const unsigned char* p) {
    for (int lane = 0; lane < 4; ++lane)
      v_[lane] = detail::xxh_round(v_[lane], detail::load64(p + 8 * lane));
  }

  std::array<std::uint64_t, 4> v_ = {detail::kP1 + detail::kP2, detail::kP2, 0, 0 - detail::kP1};
  std::array<unsigned char, 32> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_ = 0;
};

inline std::uint64_t hash64(const void* data, std::size_t bytes) {
  Hasher h;
  h.update(data, bytes);
  return h.digest();
}

// ---------------------------------------------------------------------------------------
// The header

struct Header {
  std::uint32_t version = kVersion;
  std::uint32_t header_bytes = kHeaderBytes;
  std::int64_t rows = 0, cols = 0, nnz = 0;
  std::uint64_t label_offset = 0, row_ptr_offset = 0, value_offset = 0, index_offset = 0;
  std::uint64_t data_bytes = 0;
  std::uint64_t data_checksum = 0;
  std::uint64_t header_checksum = 0;
};

namespace detail {
inline std::uint64_t align8(std::uint64_t n) {
  return (n + 7) & ~std::uint64_t{7};
}

template <class T>
void put(unsigned char* out, std::size_t offset, T value) {
  static_assert(std::endian::native == std::endian::little, "the format is little-endian");
  std::memcpy(out + offset, &value, sizeof value);
}
template <class T>
T get(const unsigned char* in, std::size_t offset) {
  static_assert(std::endian::native == std::endian::little, "the format is little-endian");
  T value;
  std::memcpy(&value, in + offset, sizeof value);
  return value;
}
}  // namespace detail

// The version-1 header of a rows x cols data set with nnz entries, offsets filled in;
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

// The 96 header bytes; header_checksum is computed here over the first 88.
inline std::array<unsigned char, kHeaderBytes> encode_header(const Header& h) {
  std::array<unsigned char, kHeaderBytes> out{};
  unsigned char* b = out.data();
  std::memcpy(b, kMagic.data(), kMagic.size());
  detail::put(b, 8, h.version);
  detail::put(b, 12, h.header_bytes);
  detail::put(b, 16, h.rows);
  detail::put(b, 24, h.cols);
  detail::put(b, 32, h.nnz);
  detail::put(b, 40, h.label_offset);
  detail::put(b, 48, h.row_ptr_offset);
  detail::put(b, 56, h.value_offset);
  detail::put(b, 64, h.index_offset);
  detail::put(b, 72, h.data_bytes);
  detail::put(b, 80, h.data_checksum);
  detail::put(b, 88, hash64(b, 88));
  return out;
}

// ---------------------------------------------------------------------------------------
// Writing

// Writes `data` in the version-1 layout. The stream should be binary; check its state
// afterwards (this function does not throw on I/O errors).
inline void write_binary(std::ostream& out, const Dataset& data) {
  Header h = layout(data.rows(), data.cols, data.nnz());
  const auto bytes = [](const auto& v) { return v.size() * sizeof(v[0]); };
  const std::size_t padding = kHeaderBytes + h.data_bytes - (h.index_offset + bytes(data.index));
  const unsigned char zeros[8] = {};

  Hasher hasher;
  hasher.update(data.label.data(), bytes(data.label));
  hasher.update(data.row_ptr.data(), bytes(data.row_ptr));
  hasher.update(data.value.data(), bytes(data.value));
  hasher.update(data.index.data(), bytes(data.index));
  hasher.update(zeros, padding);
  h.data_checksum = hasher.digest();

  const auto header = encode_header(h);
  const auto write = [&out](const void* p, std::size_t n) {
    out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  };
  write(header.data(), header.size());
  write(data.label.data(), bytes(data.label));
  write(data.row_ptr.data(), bytes(data.row_ptr));
  write(data.value.data(), bytes(data.value));
  write(data.index.data(), bytes(data.index));
  write(zeros, padding);
}

// ---------------------------------------------------------------------------------------
// Reading

// Checks the header of a file image of `size` bytes against the file itself: magic,
// version, header checksum, sizes and offsets. Throws DataError naming `file` and what
// is wrong; the data checksum is left to parse_binary.
inline Header read_header(const void* image, std::size_t size, const std::string& file) {
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
  const std::size_t header_bytes =
      size >= kPrefixBytes ? detail::get<std::uint32_t>(b, 12) : kHeaderBytes;
  if (header_bytes < kPrefixBytes + 8 || header_bytes > kMaxHeaderBytes || header_bytes % 8 != 0)
    fail("header checksum mismatch: the file is corrupted (impossible header size " +
         std::to_string(header_bytes) + ")");
  if (size < header_bytes)
    fail("truncated: the header needs " + std::to_string(header_bytes) + " bytes, file has " +
         std::to_string(size));
  if (hash64(b, header_bytes - 8) != detail::get<std::uint64_t>(b, header_bytes - 8))
    fail("header checksum mismatch: the file is corrupted");

  Header h;
  h.version = detail::get<std::uint32_t>(b, 8);
  if (h.version != kVersion)
    fail("unsupported format version " + std::to_string(h.version) + " (this build reads " +
         std::to_string(kVersion) + "); re-create the file with `localsgd data convert`");
  h.header_checksum = detail::get<std::uint64_t>(b, 88);
  h.header_bytes = detail::get<std::uint32_t>(b, 12);
  h.rows = detail::get<std::int64_t>(b, 16);
  h.cols = detail::get<std::int64_t>(b, 24);
  h.nnz = detail::get<std::int64_t>(b, 32);
  h.label_offset = detail::get<std::uint64_t>(b, 40);
  h.row_ptr_offset = detail::get<std::uint64_t>(b, 48);
  h.value_offset = detail::get<std::uint64_t>(b, 56);
  h.index_offset = detail::get<std::uint64_t>(b, 64);
  h.data_bytes = detail::get<std::uint64_t>(b, 72);
  h.data_checksum = detail::get<std::uint64_t>(b, 80);

  // A header with a valid checksum was written by a writer: these only fail for a
  // deliberately crafted file, but a crafted file must not make us read out of bounds.
  constexpr auto kMaxCount = std::int64_t{1} << 56;  // keeps every byte count below 2^63
  if (h.header_bytes != kHeaderBytes || h.rows < 0 || h.rows >= kMaxCount || h.nnz < 0 ||
      h.nnz >= kMaxCount || h.cols < 0 ||
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

namespace detail {

// Copies `count` values of T from the file bytes at `src` into `vec`, in chunks small
// enough to stay in cache while the same chunk is hashed and checked: one pass over
// memory instead of three. `check(first, values, n)` sees each chunk once, in order.
template <class T, class Check>
void copy_hash_check(std::vector<T>& vec, const unsigned char* src, std::size_t count,
                     Hasher& hasher, Check&& check) {
  constexpr std::size_t kChunk = (std::size_t{64} << 10) / sizeof(T);
  vec.clear();  // Dataset::row_ptr starts as {0}
  vec.reserve(count);
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(kChunk, count - done);
    vec.resize(done + n);  // zero-fills only this chunk, which is then in cache
    T* out = vec.data() + done;
    std::memcpy(out, src + done * sizeof(T), n * sizeof(T));
    hasher.update(out, n * sizeof(T));
    check(done, static_cast<const T*>(out), n);
    done += n;
  }
}

// Position of the first NaN or infinity in v[0, n), or n. x - x is 0 for a finite x and
// NaN otherwise; four independent sums of it make the common all-finite case fast.
inline std::size_t first_non_finite(const double* v, std::size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += v[i] - v[i];
    s1 += v[i + 1] - v[i + 1];
    s2 += v[i + 2] - v[i + 2];
    s3 += v[i + 3] - v[i + 3];
  }
  for (; i < n; ++i) s0 += v[i] - v[i];
  if (s0 + s1 + s2 + s3 == 0) return n;
  for (i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return i;
  return n;
}

// Checks that the column indices of every row ascend and are below `cols`, one chunk of
// the index array at a time, in order, given a valid row_ptr. Rows are short (12 entries
// on average in w8a), so rather than walk them, each chunk is checked branch-free for
// 0 <= index < cols and for descents (index[e] <= index[e-1]); finish() then discounts the
// descents at row starts, where they are fine. Any descent left is an error.
struct IndexCheck {
  const std::int32_t* index;  // the whole array, as copied so far
  std::int64_t cols;
  std::int64_t descents = 0;
  bool in_range = true;

  void operator()(std::size_t first, std::size_t n) {
    const std::int32_t* x = index + first;  // x[-1] is the previous chunk's last entry
    // 32-bit lanes throughout, so the loop vectorises: an unsigned compare against cols
    // (at most 2^31) also rejects negative indices, and a chunk holds < 2^31 entries.
    const auto limit = static_cast<std::uint32_t>(cols);
    std::uint32_t bad = 0, count = 0;
    std::size_t k = 0;
    if (first == 0 && n > 0) {
      bad = static_cast<std::uint32_t>(x[0]) >= limit;
      k = 1;
    }
    for (; k < n; ++k) {
      bad |= static_cast<std::uint32_t>(x[k]) >= limit;
      count += x[k] <= x[k - 1];
    }
    const bool ok = bad == 0;
    descents += count;
    in_range = in_range && ok;
  }

  // The first offending row (0-based), or -1 when all rows are fine.
  std::int64_t finish(const std::vector<std::int64_t>& row_ptr) const {
    std::int64_t left = descents;
    for (std::size_t r = 1; r + 1 < row_ptr.size() && in_range; ++r) {
      const std::int64_t s = row_ptr[r];
      if (s < row_ptr[r + 1] && s > 0 && index[s] <= index[s - 1]) --left;
    }
    if (in_range && left == 0) return -1;
    for (std::size_t r = 0; r + 1 < row_ptr.size(); ++r)  // slow path: find the row
      for (std::int64_t e = row_ptr[r]; e < row_ptr[r + 1]; ++e)
        if (index[e] < 0 || index[e] >= cols || (e > row_ptr[r] && index[e] <= index[e - 1]))
          return static_cast<std::int64_t>(r);
    return -1;
  }
};

}  // namespace detail

// Validates a whole file image (see the header comment) and copies it into a Dataset
// whose source is `file`. Throws DataError naming the first problem.
//
// The checksum only proves the file is what a writer wrote; the writer may have been
// given a broken matrix, or the file crafted, so the CSR structure is checked too (every
// later access then stays in range). A structural problem is reported only once the
// checksum has matched: in a corrupted file, the corruption is the news.
inline Dataset parse_binary(const void* image, std::size_t size, const std::string& file) {
  const Header h = read_header(image, size, file);
  const auto* b = static_cast<const unsigned char*>(image);
  const auto rows = static_cast<std::size_t>(h.rows), nnz = static_cast<std::size_t>(h.nnz);

  std::string problem;  // the first structural problem, in file order
  const auto found = [&problem](std::size_t row, const char* what) {
    if (problem.empty()) problem = "invalid data in row " + std::to_string(row + 1) + ": " + what;
  };

  Dataset data;
  Hasher hasher;
  detail::copy_hash_check(data.label, b + h.label_offset, rows, hasher,
                          [&](std::size_t first, const double* v, std::size_t n) {
                            const std::size_t i = detail::first_non_finite(v, n);
                            if (i < n) found(first + i, "label is not finite");
                          });
  bool rows_ok = true;  // row_ptr starts at 0, never decreases, ends at nnz
  std::int64_t previous_end = 0;
  detail::copy_hash_check(
      data.row_ptr, b + h.row_ptr_offset, rows + 1, hasher,
      [&](std::size_t first, const std::int64_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          if (p[i] < previous_end || p[i] > h.nnz || (first + i == 0 && p[i] != 0)) {
            if (rows_ok)
              found(first + i == 0 ? 0 : first + i - 1, "row pointers out of order or range");
            rows_ok = false;
          }
          previous_end = p[i];
        }
      });
  if (rows_ok && previous_end != h.nnz) {
    found(rows == 0 ? 0 : rows - 1, "row pointers do not end at nnz");
    rows_ok = false;
  }
  // The row of entry e, for messages (only once row_ptr is known to be valid).
  const auto row_of = [&data](std::size_t e) {
    const auto it =
        std::upper_bound(data.row_ptr.begin(), data.row_ptr.end(), static_cast<std::int64_t>(e));
    return static_cast<std::size_t>(it - data.row_ptr.begin()) - 1;
  };
  detail::copy_hash_check(data.value, b + h.value_offset, nnz, hasher,
                          [&](std::size_t first, const double* v, std::size_t n) {
                            const std::size_t i = detail::first_non_finite(v, n);
                            if (i < n && rows_ok) found(row_of(first + i), "value is not finite");
                          });
  data.index.reserve(nnz);  // so that data() below stays valid while the array fills
  detail::IndexCheck index_check{data.index.data(), h.cols};
  detail::copy_hash_check(data.index, b + h.index_offset, nnz, hasher,
                          [&](std::size_t first, const std::int32_t*, std::size_t n) {
                            if (rows_ok) index_check(first, n);
                          });
  if (rows_ok) {
    const std::int64_t bad_row = index_check.finish(data.row_ptr);
    if (bad_row >= 0)
      found(static_cast<std::size_t>(bad_row), "column indices not ascending or not below cols");
  }
  const std::uint64_t end = h.index_offset + 4 * static_cast<std::uint64_t>(nnz);
  hasher.update(b + end, kHeaderBytes + h.data_bytes - end);  // the padding

  if (hasher.digest() != h.data_checksum)
    throw DataError(file, 0, 0, "payload checksum mismatch: the file is corrupted");
  if (!problem.empty()) throw DataError(file, 0, 0, problem);
  data.cols = h.cols;
  data.source = file;
  return data;
}

}  // namespace localsgd::binary
