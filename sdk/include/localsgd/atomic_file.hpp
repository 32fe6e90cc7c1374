// Writing output files so that readers never see a partial one: the content goes to a
// temporary file in the same directory, which is renamed over the target only after it
// was written and flushed completely. On any failure the temporary file is removed.
//
// Used by the core for every file it writes and by plugins that write files (the
// synthetic reader's truth=FILE, through model_file.hpp). Not part of sdk.hpp.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>

#include "localsgd/errors.hpp"

namespace localsgd {

// What write_file_atomically holds while the temporary file exists: nothing by default.
struct NoTemporaryFileGuard {
  explicit NoTemporaryFileGuard(const std::filesystem::path& /*temporary*/) {}
};

// Calls `write(std::ostream&)` with a stream to a temporary file ".NAME.tmp.PID" next to
// `path`, then renames it to `path`. Throws DataError naming `path` when the file cannot
// be written. A `Guard` is constructed from the temporary file's path before it is
// created and destroyed after it was renamed or removed (the core's guard lets a signal
// handler remove the file of an interrupted write).
template <class Guard = NoTemporaryFileGuard, class Write>
void write_file_atomically(const std::filesystem::path& path, Write&& write) {
  namespace fs = std::filesystem;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(path.string(), 0, 0,
                    "cannot write: directory " + dir.string() + " does not exist");
  const fs::path temp =
      dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
  const Guard guard(temp);
  try {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw DataError(path.string(), 0, 0, std::string("cannot write: ") + std::strerror(errno));
    std::forward<Write>(write)(static_cast<std::ostream&>(out));
    out.flush();
    if (!out) throw DataError(path.string(), 0, 0, "write failed (disk full?)");
    out.close();
    fs::rename(temp, path, ec);
    if (ec) throw DataError(path.string(), 0, 0, "cannot rename temporary file: " + ec.message());
  } catch (...) {
    fs::remove(temp, ec);
    throw;
  }
}

}  // namespace localsgd
