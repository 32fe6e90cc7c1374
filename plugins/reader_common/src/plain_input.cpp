#include "localsgd/readers/plain_input.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <localsgd/errors.hpp>

namespace localsgd::readers {
namespace {

// Reads `fd` to its end. `size_hint` is the file size when known (it is not for pipes);
// the capacity exceeds it by one so that a regular file is read in one call plus the
// call that sees end of file.
ByteBuffer read_all(int fd, std::size_t size_hint, const std::string& name) {
  ByteBuffer buffer(size_hint > 0 ? size_hint + 1 : std::size_t{1} << 20);
  for (;;) {
    buffer.make_room();
    const ssize_t n = ::read(fd, buffer.tail(), buffer.room());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DataError(name, 0, 0, std::string("read error: ") + std::strerror(errno));
    }
    buffer.grew_by(static_cast<std::size_t>(n));
  }
  return buffer;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw DataError(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
  }
  ~FileDescriptor() { ::close(fd_); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Checked before opening, so that a directory is named as such rather than failing later
// with a read error, and a device (/dev/zero, /dev/urandom) is refused rather than read
// without end. Pipes and regular files pass.
void check_not_directory(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return;  // open() names the problem
  if (S_ISDIR(info.st_mode)) throw DataError(path, 0, 0, "is a directory, expected a data file");
  if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode))
    throw DataError(path, 0, 0, "is a device, expected a data file");
}

// The size of `fd` when it is a regular file, else 0 (unknown).
std::size_t regular_file_size(int fd) {
  struct stat info {};
  const bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  return regular ? static_cast<std::size_t>(info.st_size) : 0;
}

// Maps a regular file privately, with the '\n' sentinel written just past its end. That
// byte lies in the zero-filled tail of the last page, so this works only when the size
// is not a multiple of the page size; it is then readable and, the mapping being private,
// writable without touching the file. Returns nothing when mapping does not apply.
// Mapping spares the copy and the page faults of a fresh buffer: about a third of the
// time a large file takes. (As with any mapping, a file truncated while being parsed
// would raise SIGBUS; data files are not rewritten under a running job.)
std::optional<InputBuffer> map_file(int fd, std::size_t size, const std::string& path) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (size == 0 || size % page == 0) return std::nullopt;
  void* mapped = ::mmap(nullptr, size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (mapped == MAP_FAILED) return std::nullopt;
  ::madvise(mapped, size, MADV_SEQUENTIAL);
  auto* bytes = static_cast<char*>(mapped);
  bytes[size] = '\n';
  return InputBuffer{std::shared_ptr<char>(bytes, [size](char* p) { ::munmap(p, size + 1); }), size,
                     path};
}

}  // namespace

ByteBuffer read_stdin() {
  return read_all(STDIN_FILENO, 0, kStdinName);
}

ByteBuffer read_file(const std::string& path) {
  check_not_directory(path);
  const FileDescriptor fd(path);
  return read_all(fd.get(), regular_file_size(fd.get()), path);
}

InputBuffer read_plain(const std::string& path) {
  if (path == "-") return read_stdin().finish(kStdinName);
  check_not_directory(path);
  const FileDescriptor fd(path);
  const std::size_t size = regular_file_size(fd.get());
  // A regular file of size 0 is not mapped (nor is a non-regular one, whose size is 0).
  if (auto mapped = map_file(fd.get(), size, path)) return std::move(*mapped);
  return read_all(fd.get(), size, path).finish(path);
}

}  // namespace localsgd::readers
