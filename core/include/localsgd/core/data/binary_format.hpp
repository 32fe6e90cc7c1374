// The core's side of the binary cache (`localsgd data convert IN OUT.bin`): its checksum
// hash and its writer. The format itself (layout, header, header validation) is the SDK's
// localsgd/binary_cache.hpp, which the bin reader plugin reads it with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "localsgd/binary_cache.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core::binary {

// XXH3-64 with seed 0, the hash of every checksum in the format (binary_cache::Hash64);
// also the core's general-purpose hash (f* cache keys).
std::uint64_t hash64(const void* data, std::size_t bytes);

// Writes `data` in the version-2 layout. The stream should be binary; check its state
// afterwards (this function does not throw on I/O errors).
void write_binary(std::ostream& out, const DataView& data);

}  // namespace localsgd::core::binary
