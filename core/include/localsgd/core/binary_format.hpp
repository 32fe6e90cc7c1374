// The binary cache format for a data set: CSR arrays as they lie in memory, behind a
// versioned, checksummed header, so that a reload maps the file and checks it instead of
// parsing text (`localsgd data convert w8a w8a.bin`, then `--data w8a.bin`).
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
// The reader trusts nothing: magic, version, header checksum, the sizes against the file
// length, the data checksum and then the CSR structure itself (row_ptr monotone, indices
// ascending and < cols, finite numbers) are all checked before a data set is returned.
// Version 1 (an XXH64 checksum over all data bytes) is refused with a request to
// re-create the file.
//
// Every version starts with magic, version and header size (offsets 0..15) and ends its
// header with the checksum of the header bytes before it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core::binary {

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

// XXH3-64 with seed 0, the hash of every checksum in the format.
std::uint64_t hash64(const void* data, std::size_t bytes);

// The version-2 header of a rows x cols data set with nnz entries, offsets filled in;
// the checksums are left to the writer.
Header layout(std::int64_t rows, std::int64_t cols, std::int64_t nnz);

// The 96 header bytes; the header checksum is computed here over the first 88.
std::array<unsigned char, kHeaderBytes> encode_header(const Header& h);

// Writes `data` in the version-2 layout. The stream should be binary; check its state
// afterwards (this function does not throw on I/O errors).
void write_binary(std::ostream& out, const DataView& data);

// Checks the header of a file image of `size` bytes against the file itself: magic,
// version, header checksum, sizes and offsets. Throws DataError naming `file` and what
// is wrong; the data checksum is left to validate_binary.
Header read_header(const void* image, std::size_t size, const std::string& file);

// Validates a whole file image (see the top of this file) and returns a view of the data
// set inside it: no copy, so the image must outlive the view, and it must be 8-byte
// aligned (a mapping or an allocation is). Throws DataError naming the first problem.
//
// The checksum only proves the file is what a writer wrote; the writer may have been
// given a broken matrix, or the file crafted, so the CSR structure is checked too (every
// later access then stays in range). A structural problem is reported only once the
// checksum has matched: in a corrupted file, the corruption is the news. Blocks are
// hashed and checked in parallel (TBB); the result does not depend on the thread count.
DataView validate_binary(const void* image, std::size_t size, const std::string& file);

}  // namespace localsgd::core::binary
