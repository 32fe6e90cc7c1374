#include "binary_validation.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <xxhash.h>
#if defined(__x86_64__)
// XXH3_64bits becomes the library's run-time dispatch to the widest vectors the CPU has:
// AVX2 hashes ~3x faster than the SSE2 baseline we compile for.
#include <xxh_x86dispatch.h>
#endif

#include <localsgd/binary_cache.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace localsgd::readers {
namespace {

using binary_cache::Header;
using binary_cache::kBlockBytes;
using binary_cache::kHeaderBytes;

// The checks below are simple loops over whole arrays that the compiler vectorises;
// like the hash, they get an AVX2 clone, picked at load time where the CPU has it. Not
// under ThreadSanitizer: the clone's resolver runs while the dynamic loader relocates,
// before TSan's runtime is up, and its instrumented code crashes the process at start.
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define LOCALSGD_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LOCALSGD_VECTOR_CLONES
#endif

// Whether all of v[0, n) are finite, in integer lanes: the exponent field of a double is
// all ones exactly for NaN and infinity, and then adding 1 to it carries into bit 63.
LOCALSGD_VECTOR_CLONES bool all_finite(const double* v, std::size_t n) {
  constexpr std::uint64_t kExponent = 0x7FF0000000000000ULL, kExponentOne = 0x0010000000000000ULL;
  std::uint64_t carries = 0;
  for (std::size_t i = 0; i < n; ++i)
    carries |= (std::bit_cast<std::uint64_t>(v[i]) & kExponent) + kExponentOne;
  return (carries >> 63) == 0;
}

// Position of the first NaN or infinity in v[0, n), or n.
std::size_t first_non_finite(const double* v, std::size_t n) {
  if (all_finite(v, n)) return n;
  return static_cast<std::size_t>(
      std::find_if(v, v + n, [](double x) { return !std::isfinite(x); }) - v);
}

struct IndexCounts {
  std::uint32_t out_of_range = 0;  // non-zero if some index is < 0 or >= cols
  std::uint32_t descents = 0;      // k with x[k] <= x[k - 1]
};

// Over x[first, last), first >= 1 (x[first - 1] is read). Branch-free, in 32-bit lanes:
// an unsigned compare against cols (at most 2^31) also catches negative indices, and a
// block holds < 2^31 entries.
LOCALSGD_VECTOR_CLONES IndexCounts count_index_faults(const std::int32_t* x, std::int64_t first,
                                                      std::int64_t last, std::uint32_t cols) {
  std::uint32_t bad = 0, descents = 0;
  for (std::int64_t k = first; k < last; ++k) {
    bad |= static_cast<std::uint32_t>(x[k]) >= cols;
    descents += x[k] <= x[k - 1];
  }
  return {bad, descents};
}

// The arrays of a file image whose header has been checked: every pointer and count below
// stays inside the image, whatever the arrays contain.
struct Arrays {
  const double* label;
  const std::int64_t* row_ptr;  // rows + 1 entries
  const double* value;
  const std::int32_t* index;
  std::int64_t rows, cols, nnz;
};

enum class Problem { none, label, row_ptr, value };

// What checking one block found. Indices are not judged per block: their rows are only
// known once all of row_ptr is valid, so the block counts instead (see check_block).
struct BlockFindings {
  std::uint64_t digest = 0;
  Problem problem = Problem::none;  // the first one in the block, in file order
  std::int64_t position = 0;        // the element of that array where it is
  std::uint32_t index_out_of_range = 0;
  std::int64_t index_descents = 0;      // e >= 1 with index[e] <= index[e - 1]
  std::int64_t row_start_descents = 0;  // those of them where a non-empty row starts
};

// Hashes block `b` of the data bytes and checks the array elements it holds. No element
// straddles two blocks: arrays start 8-byte aligned and blocks are multiples of 8 bytes.
BlockFindings check_block(const unsigned char* data, std::size_t data_bytes, std::size_t b,
                          const Header& h, const Arrays& a) {
  BlockFindings f;
  const std::size_t begin = b * kBlockBytes, end = std::min(data_bytes, begin + kBlockBytes);
  f.digest = xxh3_64(data + begin, end - begin);

  // The elements [first, last) of the array at file offset `offset` (elements of `size`
  // bytes, `count` of them) that lie in this block.
  const auto elements = [&](std::uint64_t offset, std::size_t size, std::int64_t count) {
    const auto start = static_cast<std::int64_t>(offset - kHeaderBytes);  // in data bytes
    const auto to_element = [&](std::size_t byte) {
      const auto rel = static_cast<std::int64_t>(byte) - start;
      return std::clamp<std::int64_t>(rel / static_cast<std::int64_t>(size), 0, count);
    };
    return std::pair{to_element(begin), to_element(end)};
  };
  const auto found = [&f](Problem p, std::int64_t at) {
    if (f.problem != Problem::none) return;
    f.problem = p;
    f.position = at;
  };

  if (const auto [first, last] = elements(h.label_offset, 8, a.rows); first < last) {
    const auto n = static_cast<std::size_t>(last - first);
    const std::size_t i = first_non_finite(a.label + first, n);
    if (i < n) found(Problem::label, first + static_cast<std::int64_t>(i));
  }
  if (const auto [first, last] = elements(h.row_ptr_offset, 8, a.rows + 1); first < last) {
    for (std::int64_t i = first; i < last; ++i) {
      const std::int64_t p = a.row_ptr[i];
      const bool ok = (i == 0 ? p == 0 : p >= a.row_ptr[i - 1]) && p <= a.nnz;
      if (!ok) {
        found(Problem::row_ptr, i);
        break;
      }
      // Row i starts at p: a descent there is fine. Counted only for a non-empty row
      // (one row per start), and read only in range; meaningless if row_ptr is broken.
      if (i < a.rows && p > 0 && p < a.nnz && p < a.row_ptr[i + 1] && a.index[p] <= a.index[p - 1])
        ++f.row_start_descents;
    }
  }
  if (const auto [first, last] = elements(h.value_offset, 8, a.nnz); first < last) {
    const auto n = static_cast<std::size_t>(last - first);
    const std::size_t i = first_non_finite(a.value + first, n);
    if (i < n) found(Problem::value, first + static_cast<std::int64_t>(i));
  }
  if (auto [first, last] = elements(h.index_offset, 4, a.nnz); first < last) {
    const auto cols = static_cast<std::uint32_t>(a.cols);
    if (first == 0) f.index_out_of_range = static_cast<std::uint32_t>(a.index[first++]) >= cols;
    const IndexCounts counts = count_index_faults(a.index, first, last, cols);
    f.index_out_of_range |= counts.out_of_range;
    f.index_descents = counts.descents;
  }
  return f;
}

// The first row (0-based) with an index out of range or not ascending, or -1; row_ptr
// must be valid. Only runs once the fast counts said something is wrong.
std::int64_t first_bad_row(const Arrays& a) {
  for (std::int64_t r = 0; r < a.rows; ++r)
    for (std::int64_t e = a.row_ptr[r]; e < a.row_ptr[r + 1]; ++e)
      if (a.index[e] < 0 || a.index[e] >= a.cols ||
          (e > a.row_ptr[r] && a.index[e] <= a.index[e - 1]))
        return r;
  return -1;
}

[[noreturn]] void bad_row(const std::string& file, std::int64_t row, const char* what) {
  throw DataError(
      file, 0, 0,
      "invalid data in row " + std::to_string(std::max<std::int64_t>(row, 0) + 1) + ": " + what);
}

}  // namespace

std::uint64_t xxh3_64(const void* data, std::size_t bytes) {
  const std::uint64_t hash = XXH3_64bits(data, bytes);
  binary_cache::clear_vector_state();
  return hash;
}

DataView validate_binary(const void* image, std::size_t size, const std::string& file) {
  const Header h = binary_cache::read_header(image, size, file, xxh3_64);
  if (reinterpret_cast<std::uintptr_t>(image) % 8 != 0)
    throw std::invalid_argument("validate_binary: the image must be 8-byte aligned");
  const auto* b = static_cast<const unsigned char*>(image);
  const Arrays a{reinterpret_cast<const double*>(b + h.label_offset),
                 reinterpret_cast<const std::int64_t*>(b + h.row_ptr_offset),
                 reinterpret_cast<const double*>(b + h.value_offset),
                 reinterpret_cast<const std::int32_t*>(b + h.index_offset),
                 h.rows,
                 h.cols,
                 h.nnz};

  const unsigned char* data = b + kHeaderBytes;
  const std::size_t blocks = binary_cache::block_count(h.data_bytes);
  std::vector<BlockFindings> findings(blocks);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks), [&](const auto& range) {
    for (std::size_t k = range.begin(); k != range.end(); ++k)
      findings[k] = check_block(data, h.data_bytes, k, h, a);
  });

  std::vector<std::uint64_t> digests(blocks);
  for (std::size_t k = 0; k < blocks; ++k) digests[k] = findings[k].digest;
  if (binary_cache::data_checksum(digests.data(), blocks, xxh3_64) != h.data_checksum)
    throw DataError(file, 0, 0, "payload checksum mismatch: the file is corrupted");

  // The row of entry e, once row_ptr is known to be valid.
  const auto row_of = [&a](std::int64_t e) {
    return std::upper_bound(a.row_ptr, a.row_ptr + a.rows + 1, e) - a.row_ptr - 1;
  };
  std::int64_t descents = 0, row_start_descents = 0;
  bool out_of_range = false;
  for (const BlockFindings& f : findings) {  // in file order: the first problem is reported
    switch (f.problem) {
      case Problem::none: break;
      case Problem::label: bad_row(file, f.position, "label is not finite");
      case Problem::row_ptr: bad_row(file, f.position - 1, "row pointers out of order or range");
      case Problem::value:  // row_ptr precedes the values in the file: it is in order here
        if (a.row_ptr[a.rows] != a.nnz) bad_row(file, a.rows - 1, "row pointers do not end at nnz");
        bad_row(file, row_of(f.position), "value is not finite");
    }
    descents += f.index_descents;
    row_start_descents += f.row_start_descents;
    out_of_range = out_of_range || f.index_out_of_range != 0;
  }
  if (a.row_ptr[a.rows] != a.nnz) bad_row(file, a.rows - 1, "row pointers do not end at nnz");
  // Every descent in the index array must be where a row starts.
  if (out_of_range || descents != row_start_descents)
    bad_row(file, first_bad_row(a), "column indices not ascending or not below cols");

  const auto rows = static_cast<std::size_t>(h.rows), nnz = static_cast<std::size_t>(h.nnz);
  DataView view;
  view.label = {a.label, rows};
  view.row_ptr = {a.row_ptr, rows + 1};
  view.value = {a.value, nnz};
  view.index = {a.index, nnz};
  view.cols = h.cols;
  return view;
}

}  // namespace localsgd::readers
