// Checkpoint files (--checkpoint, --resume): a run's whole state, what the run was, and
// the state of train's callbacks, in one versioned, checksummed file.
//
// Layout (docs/RELIABILITY.md, "Checkpoints"), little-endian:
//   "LSGDCKPT"   8 bytes
//   u32          format version (kCheckpointFormatVersion)
//   u32          0 (reserved)
//   u64          payload size P
//   payload      u64 header size J, J bytes of JSON (the identity, the callbacks' state,
//                the state's scalars and the list of arrays that follow), then the arrays
//                in that order, each count × 8 bytes (f64 or i64)
//   u64          XXH3-64 of the payload
// Written atomically (temporary file, fsync, rename, fsync of the directory), so a kill at
// any moment leaves the previous checkpoint whole.
#pragma once

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "localsgd/core/engine/engine_state.hpp"

namespace localsgd::core {

inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  nlohmann::ordered_json identity;   // what the run was; a resume must match it
  nlohmann::ordered_json callbacks;  // train's callbacks (target stop, plot curve)
  EngineState state;
  std::uint64_t checksum = 0;  // of the file's content, as stored in it: equal files, equal sums
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Throws DataError (exit 3) naming the file for anything but an intact checkpoint of this
// format version: truncated, corrupted (checksum), malformed or inconsistent.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// Parses the bytes of a checkpoint file (the fuzz harness's entry); `name` for messages.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& name);

}  // namespace localsgd::core
