// Writing output files so that readers never see a partial one: the content goes to a
// temporary file in the same directory, which is renamed over the target only after it
// was written and flushed completely. On any failure the temporary file is removed.
//
// Used by the core for every file it writes and by plugins that write files (the
// synthetic reader's truth=FILE, through model_file.hpp). Not part of sdk.hpp.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <fcntl.h>
#include <linux/fs.h>  // FS_IOC_GETFLAGS: chattr +i / +a
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ext/stdio_filebuf.h>  // libstdc++: an ostream on a file descriptor

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <random>
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

// Removes temporary files ".NAME.tmp.*" next to `target` that no writer holds: a writer
// keeps an exclusive flock on its temporary file until it is renamed, so one that can be
// locked belongs to a writer that was killed (in any process namespace, on any host that
// shares the directory with working locks). They are never read, only cleaned.
inline void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& name) {
  namespace fs = std::filesystem;
  const std::string prefix = "." + name + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() <= prefix.size() || file.compare(0, prefix.size(), prefix) != 0) continue;
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(it->path().c_str());
    ::close(fd);
  }
}

// The mode a new file gets: 0666 less the process's umask.
inline mode_t new_file_mode() {
  const mode_t mask = ::umask(022);
  ::umask(mask);
  return 0666 & ~mask;
}

// The file a write to `path` replaces (see resolve_output) and the directory its temporary
// file goes to, which must exist.
inline std::pair<std::filesystem::path, std::filesystem::path> output_target(
    const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  fs::path target = resolve_output(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status) && !fs::is_directory(status))
    throw DataError(path.string(), 0, 0, "cannot write: " + dir.string() + " is not a directory");
  if (!fs::is_directory(status))
    throw DataError(path.string(), 0, 0,
                    "cannot write: directory " + dir.string() + " does not exist");
  return {std::move(target), std::move(dir)};
}

// The error of a file that could not be created in `dir` (errno says why).
inline DataError cannot_create(const std::filesystem::path& path,
                               const std::filesystem::path& dir) {
  return DataError(path.string(), 0, 0,
                   std::string("cannot write: ") + std::strerror(errno) +
                       " (creating a file in directory " + dir.string() + ")");
}

}  // namespace detail

// Throws the DataError a write_file_atomically(path, ...) would throw before writing
// anything: a directory that does not exist or where no file can be created (tried, not
// judged by permission bits: root passes those on a read-only mount or in /proc), a path
// that names a directory, FIFO or device, or a file another user owns in a sticky
// directory (/tmp), which the rename could not replace. A command checks its output files
// with it before a long run.
inline void check_output_path(const std::filesystem::path& path) {
  const auto [target, dir] = detail::output_target(path);
  for (int attempt = 0;; ++attempt) {
    const std::filesystem::path probe =
        dir / ("." + target.filename().string() + ".probe." + std::to_string(::getpid()) + "." +
               std::to_string(std::random_device{}() % 1000000));
    const int fd =
        ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && (errno != EEXIST || attempt == 15)) throw detail::cannot_create(path, dir);
    if (fd < 0) continue;
    ::close(fd);
    ::unlink(probe.c_str());
    break;
  }
  struct stat directory {
  }, existing{};
  // The rename that replaces a file needs only the directory, except when the file is
  // immutable or append-only (chattr +i, +a): then it fails after the work.
  if (::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
    const int fd = ::open(target.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    int attributes = 0;
    const bool fixed = fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &attributes) == 0 &&
                       (attributes & (FS_IMMUTABLE_FL | FS_APPEND_FL)) != 0;
    if (fd >= 0) ::close(fd);
    if (fixed)
      throw DataError(path.string(), 0, 0,
                      "cannot write: the file is immutable or append-only (chattr +i or +a; "
                      "lsattr shows it)");
  }
  const uid_t me = ::geteuid();
  if (me != 0 && ::stat(dir.c_str(), &directory) == 0 && (directory.st_mode & S_ISVTX) != 0 &&
      ::stat(target.c_str(), &existing) == 0 && existing.st_uid != me && directory.st_uid != me)
    throw DataError(path.string(), 0, 0,
                    "cannot write: the file belongs to another user and directory " + dir.string() +
                        " is sticky (only its owner may replace it)");
}

// Calls `write(std::ostream&)` with a stream to a temporary file ".NAME.tmp.PID.N" next to
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
  const auto [target, dir] = detail::output_target(path);
  std::error_code ec;
  detail::remove_stale_temporaries(dir, target.filename().string());
  // Created exclusively and private (never through a planted link), locked while it lives.
  fs::path temp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 16; ++attempt) {
    temp = dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                  std::to_string(std::random_device{}() % 1000000));
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST) throw detail::cannot_create(path, dir);
  }
  if (fd < 0) throw DataError(path.string(), 0, 0, "cannot write: no free temporary name");
  ::flock(fd, LOCK_EX);
  const Guard guard(temp);
  try {
    {
      __gnu_cxx::stdio_filebuf<char> buffer(::dup(fd), std::ios::out | std::ios::binary);
      std::ostream out(&buffer);
      std::forward<Write>(write)(out);
      out.flush();
      if (!out) throw DataError(path.string(), 0, 0, "write failed (disk full?)");
    }
    // A replaced file keeps its permissions (a private 0600 model stays private).
    struct stat existing {};
    const mode_t mode =
        ::stat(target.c_str(), &existing) == 0 ? existing.st_mode & 07777 : detail::new_file_mode();
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0)
      throw DataError(path.string(), 0, 0, std::string("write failed: ") + std::strerror(errno));
    fs::rename(temp, target, ec);
    if (ec) throw DataError(path.string(), 0, 0, "cannot rename temporary file: " + ec.message());
    detail::sync_to_disk(dir);
    ::close(fd);
  } catch (...) {
    fs::remove(temp, ec);
    ::close(fd);
    throw;
  }
}

}  // namespace localsgd
