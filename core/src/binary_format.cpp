#include "localsgd/core/binary_format.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <xxhash.h>
#if defined(__x86_64__)
// XXH3_64bits and XXH3_64bits_update become the library's run-time dispatch to the
// widest vectors the CPU has: AVX2 hashes ~3x faster than the SSE2 baseline we compile
// for (0.14 vs 0.39 ms for w8a's 7.8 MB here).
#include <xxh_x86dispatch.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace localsgd::core::binary {
namespace {

static_assert(std::endian::native == std::endian::little, "the format is little-endian");

std::uint64_t align8(std::uint64_t n) {
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

// The data checksum of bytes that arrive in pieces, as the writer has them: XXH3 of each
// kBlockBytes block as it completes, then XXH3 of the digests.
class BlockHasher {
 public:
  BlockHasher() : state_(XXH3_createState(), &XXH3_freeState) {
    if (state_ == nullptr) throw std::bad_alloc();
    XXH3_64bits_reset(state_.get());
  }

  void update(const void* data, std::size_t bytes) {
    auto p = static_cast<const unsigned char*>(data);
    while (bytes > 0) {
      const std::size_t take = std::min(bytes, kBlockBytes - in_block_);
      XXH3_64bits_update(state_.get(), p, take);
      p += take;
      bytes -= take;
      in_block_ += take;
      if (in_block_ == kBlockBytes) end_block();
    }
  }

  std::uint64_t digest() {
    if (in_block_ > 0) end_block();
    return hash64(digests_.data(), digests_.size() * sizeof(std::uint64_t));
  }

 private:
  void end_block() {
    digests_.push_back(XXH3_64bits_digest(state_.get()));
    XXH3_64bits_reset(state_.get());
    in_block_ = 0;
  }

  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state_;
  std::size_t in_block_ = 0;
  std::vector<std::uint64_t> digests_;
};

// The checks below are simple loops over whole arrays that the compiler vectorises;
// like the hash, they get an AVX2 clone, picked at load time where the CPU has it.
#if defined(__x86_64__)
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
  f.digest = hash64(data + begin, end - begin);

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

std::uint64_t hash64(const void* data, std::size_t bytes) {
  return XXH3_64bits(data, bytes);
}

Header layout(std::int64_t rows, std::int64_t cols, std::int64_t nnz) {
  Header h;
  h.rows = rows;
  h.cols = cols;
  h.nnz = nnz;
  const auto r = static_cast<std::uint64_t>(rows), n = static_cast<std::uint64_t>(nnz);
  h.label_offset = kHeaderBytes;
  h.row_ptr_offset = h.label_offset + 8 * r;
  h.value_offset = h.row_ptr_offset + 8 * (r + 1);
  h.index_offset = h.value_offset + 8 * n;
  h.data_bytes = align8(h.index_offset + 4 * n) - kHeaderBytes;
  return h;
}

std::array<unsigned char, kHeaderBytes> encode_header(const Header& h) {
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
  put(b, 88, hash64(b, 88));
  return out;
}

void write_binary(std::ostream& out, const DataView& data) {
  // Array sizes that disagree would make a file the reader refuses as truncated or as
  // having trailing bytes; name the real cause here instead. (Contents are the reader's
  // to check: a writer may be handed a broken matrix.)
  if (data.row_ptr.size() != data.label.size() + 1 || data.value.size() != data.index.size())
    throw std::invalid_argument("write_binary: CSR array sizes disagree");
  Header h = layout(data.rows(), data.cols, data.nnz());
  const auto bytes = [](const auto& span) { return span.size_bytes(); };
  const std::size_t padding = kHeaderBytes + h.data_bytes - (h.index_offset + bytes(data.index));
  const unsigned char zeros[8] = {};

  BlockHasher hasher;
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

Header read_header(const void* image, std::size_t size, const std::string& file) {
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
  if (hash64(b, header_bytes - 8) != get<std::uint64_t>(b, header_bytes - 8)) {
    // Version 1 checksummed its header with XXH64, which this build does not compute: an
    // old cache is worth naming as such rather than as corrupted.
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

DataView validate_binary(const void* image, std::size_t size, const std::string& file) {
  const Header h = read_header(image, size, file);
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
  const std::size_t blocks = (h.data_bytes + kBlockBytes - 1) / kBlockBytes;
  std::vector<BlockFindings> findings(blocks);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks), [&](const auto& range) {
    for (std::size_t k = range.begin(); k != range.end(); ++k)
      findings[k] = check_block(data, h.data_bytes, k, h, a);
  });

  std::vector<std::uint64_t> digests(blocks);
  for (std::size_t k = 0; k < blocks; ++k) digests[k] = findings[k].digest;
  if (hash64(digests.data(), blocks * sizeof(std::uint64_t)) != h.data_checksum)
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

}  // namespace localsgd::core::binary
