// Writing output files so that readers never see a partial one: the content goes to a
// temporary file in the same directory, which is renamed over the target only after it
// was written and flushed completely. On any failure the temporary file is removed.
// The write itself is the SDK's (localsgd/atomic_file.hpp); the core adds the removal of
// the temporary file when a signal interrupts the write.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>

#include "localsgd/atomic_file.hpp"

namespace localsgd::core {

// Removes the temporary file of a write in progress, if any. Async-signal-safe: the
// SIGINT/SIGTERM handler calls it so that an interrupted run leaves no partial file.
void remove_partial_output() noexcept;

// Calls `write` with a stream to a temporary file, then renames it to `path`.
// Throws DataError (exit 3) naming `path` when the file cannot be written.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

// Throws the DataError write_file_atomically would for a path it could never write: for
// commands that check their outputs before a long computation.
using localsgd::check_output_path;

}  // namespace localsgd::core
