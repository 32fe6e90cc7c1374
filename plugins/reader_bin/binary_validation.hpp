// The bin reader's check of a whole binary cache file (localsgd/binary_cache.hpp): the
// header through the SDK's read_header, then the data checksum and the CSR structure.
// Built as a small static library of the plugin, so that the tests can call it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <localsgd/sdk.hpp>

namespace localsgd::readers {

// XXH3-64 with seed 0 (libxxhash, run-time dispatch to AVX2 where the CPU has it): the
// format's checksum hash, a binary_cache::Hash64.
std::uint64_t xxh3_64(const void* data, std::size_t bytes);

// Validates a whole file image and returns a view of the data set inside it: no copy, so
// the image must outlive the view, and it must be 8-byte aligned (a mapping or an
// allocation is). Throws DataError naming the first problem.
//
// The checksum only proves the file is what a writer wrote; the writer may have been
// given a broken matrix, or the file crafted, so the CSR structure is checked too (every
// later access then stays in range). A structural problem is reported only once the
// checksum has matched: in a corrupted file, the corruption is the news. Blocks are
// hashed and checked in parallel (TBB); the result does not depend on the thread count.
DataView validate_binary(const void* image, std::size_t size, const std::string& file);

}  // namespace localsgd::readers
