// Writing output files so that readers never see a partial one: the content goes to a
// temporary file in the same directory, which is renamed over the target only after it
// was written and flushed completely. On any failure the temporary file is removed.
//
// Used by the core for every file it writes and by plugins that write files (the
// synthetic reader's truth=FILE, through model_file.hpp). Not part of sdk.hpp.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
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

namespace detail {

// The file a write to `path` replaces: a symbolic link is followed (to its final target,
// which is written in place of the link), an existing target must be a regular file (a
// rename would turn a device, FIFO or directory into a plain file).
inline std::filesystem::path resolve_output(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target = path;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(target, ec)); ++hops) {
    if (hops == 40) throw DataError(path.string(), 0, 0, "cannot write: too many symbolic links");
    const fs::path link = fs::read_symlink(target, ec);
    if (ec) throw DataError(path.string(), 0, 0, "cannot write: " + ec.message());
    target = link.is_absolute() ? link : target.parent_path() / link;
  }
  const fs::file_status status = fs::status(target, ec);
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    const char* kind = fs::is_directory(status)        ? "a directory"
                       : fs::is_fifo(status)           ? "a FIFO"
                       : fs::is_character_file(status) ? "a device"
                       : fs::is_block_file(status)     ? "a device"
                                                       : "not a regular file";
    throw DataError(path.string(), 0, 0,
                    std::string("cannot write: it is ") + kind + "; give the path of a file");
  }
  return target;
}

// Flushes a written file (or a directory's entries) to the disk; best effort.
inline void sync_to_disk(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Removes temporary files ".NAME.tmp.PID" next to `target` whose process is gone (a run
// killed while writing): they are never read, only cleaned.
inline void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& name) {
  namespace fs = std::filesystem;
  const std::string prefix = "." + name + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() <= prefix.size() || file.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid = file.substr(prefix.size());
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

}  // namespace detail

// Calls `write(std::ostream&)` with a stream to a temporary file ".NAME.tmp.PID" next to
// `path`, syncs it to disk, then renames it to `path` and syncs the directory, so that a
// crash at any moment leaves either the old file or the new one. A symbolic link is
// followed (its target is replaced, with the target's permissions); a path that is a
// directory, FIFO or device is refused. Throws DataError naming `path` when the file
// cannot be written. A `Guard` is constructed from the temporary file's path before it
// is created and destroyed after it was renamed or removed (the core's guard lets a
// signal handler remove the file of an interrupted write). Temporary files of killed
// writers of the same target are removed.
template <class Guard = NoTemporaryFileGuard, class Write>
void write_file_atomically(const std::filesystem::path& path, Write&& write) {
  namespace fs = std::filesystem;
  const fs::path target = detail::resolve_output(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(path.string(), 0, 0,
                    "cannot write: directory " + dir.string() + " does not exist");
  detail::remove_stale_temporaries(dir, target.filename().string());
  const fs::path temp =
      dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()));
  const Guard guard(temp);
  try {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw DataError(path.string(), 0, 0, std::string("cannot write: ") + std::strerror(errno));
    std::forward<Write>(write)(static_cast<std::ostream&>(out));
    out.flush();
    if (!out) throw DataError(path.string(), 0, 0, "write failed (disk full?)");
    out.close();
    if (!out) throw DataError(path.string(), 0, 0, "write failed (disk full?)");
    // A replaced file keeps its permissions (a private 0600 model stays private).
    struct stat existing {};
    if (::stat(target.c_str(), &existing) == 0) ::chmod(temp.c_str(), existing.st_mode & 07777);
    detail::sync_to_disk(temp);
    fs::rename(temp, target, ec);
    if (ec) throw DataError(path.string(), 0, 0, "cannot rename temporary file: " + ec.message());
    detail::sync_to_disk(dir);
  } catch (...) {
    fs::remove(temp, ec);
    throw;
  }
}

}  // namespace localsgd
