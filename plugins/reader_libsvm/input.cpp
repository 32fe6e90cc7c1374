// Compressed input is read whole into memory first and decompressed from there: files
// and standard input then share one path, and the parser gets one contiguous buffer.
#include "input.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/filter/bzip2.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <localsgd/errors.hpp>

namespace localsgd::libsvm {
namespace {

enum class Compression { kNone, kGzip, kXz, kBzip2 };

const char* format_name(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gzip";
    case Compression::kXz: return "xz";
    case Compression::kBzip2: return "bzip2";
    case Compression::kNone: break;
  }
  return "plain";
}

Compression compression_by_suffix(std::string_view path) {
  if (path.ends_with(".gz")) return Compression::kGzip;
  if (path.ends_with(".xz")) return Compression::kXz;
  if (path.ends_with(".bz2")) return Compression::kBzip2;
  return Compression::kNone;
}

Compression compression_by_magic(std::string_view head) {
  if (head.starts_with("\x1f\x8b")) return Compression::kGzip;
  if (head.starts_with(std::string_view("\xfd"
                                        "7zXZ\0",
                                        6)))
    return Compression::kXz;
  if (head.starts_with("BZh")) return Compression::kBzip2;
  return Compression::kNone;
}

// A byte buffer that grows by doubling and always keeps one spare byte for the sentinel.
class Buffer {
 public:
  explicit Buffer(std::size_t capacity)
      : bytes_(std::make_unique_for_overwrite<char[]>(capacity + 1)), capacity_(capacity) {}

  char* tail() { return bytes_.get() + size_; }
  std::size_t room() const { return capacity_ - size_; }
  void grew_by(std::size_t n) { size_ += n; }
  void make_room() {
    if (room() > 0) return;
    capacity_ *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity_ + 1);
    std::memcpy(bigger.get(), bytes_.get(), size_);
    bytes_ = std::move(bigger);
  }
  std::string_view view() const { return {bytes_.get(), size_}; }

  InputBuffer finish(std::string name) && {
    bytes_[size_] = '\n';
    return {std::shared_ptr<char>(bytes_.release(), std::default_delete<char[]>()), size_,
            std::move(name)};
  }

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

// Reads `fd` to its end. `size_hint` is the file size when known (it is not for pipes);
// the capacity exceeds it by one so that a regular file is read in one call plus the
// call that sees end of file.
Buffer read_all(int fd, std::size_t size_hint, const std::string& name) {
  Buffer buffer(size_hint > 0 ? size_hint + 1 : std::size_t{1} << 20);
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

void check_not_directory(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    throw DataError(path, 0, 0, "is a directory, expected a data file");
  }
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

// A plain file: mapped when possible, else read whole.
InputBuffer load_plain(const std::string& path) {
  check_not_directory(path);
  const FileDescriptor fd(path);
  struct stat info {};
  const bool regular = ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode);
  const std::size_t size = regular ? static_cast<std::size_t>(info.st_size) : 0;
  if (regular) {
    if (auto mapped = map_file(fd.get(), size, path)) return std::move(*mapped);
  }
  return read_all(fd.get(), size, path).finish(path);
}

// A compressed file's bytes, read whole.
Buffer read_compressed(const std::string& path) {
  check_not_directory(path);
  const FileDescriptor fd(path);
  struct stat info {};
  const bool regular = ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode);
  return read_all(fd.get(), regular ? static_cast<std::size_t>(info.st_size) : 0, path);
}

// What went wrong in a compressed stream, in words, from the Boost.Iostreams exception.
std::string describe(Compression c, const std::exception& error) {
  namespace io = boost::iostreams;
  const std::string format = format_name(c);
  const std::string corrupt = "corrupt or truncated " + format + " data";
  if (const auto* e = dynamic_cast<const io::gzip_error*>(&error)) {
    if (e->error() == io::gzip::bad_header) return "not " + format + " data (bad header)";
    if (e->error() == io::gzip::bad_crc) return corrupt + " (CRC mismatch)";
    if (e->error() == io::gzip::bad_length) return corrupt + " (length mismatch)";
    return corrupt;
  }
  if (const auto* e = dynamic_cast<const io::lzma_error*>(&error)) {
    if (e->error() == io::lzma::data_error) return corrupt;
    if (e->error() == io::lzma::buf_error) return corrupt + " (unexpected end)";
    if (e->error() == io::lzma::mem_error) return format + " data needs too much memory";
    if (e->error() == io::lzma::options_error) return "unsupported " + format + " options";
    return "not " + format + " data (bad header)";
  }
  if (const auto* e = dynamic_cast<const io::bzip2_error*>(&error)) {
    if (e->error() == io::bzip2::data_error_magic) return "not " + format + " data (bad header)";
    if (e->error() == io::bzip2::unexpected_eof) return corrupt + " (unexpected end)";
    return corrupt;
  }
  return corrupt + ": " + error.what();
}

Buffer decompress(Compression c, std::string_view compressed, const std::string& name) {
  namespace io = boost::iostreams;
  constexpr std::streamsize kBlock = 1 << 16;
  // A guess at the text size (these formats shrink libsvm text 4 to 10 times); the
  // buffer doubles when it is wrong.
  if (compressed.empty())
    throw DataError(name, 0, 0, "empty file, expected " + std::string(format_name(c)) + " data");
  Buffer text(std::max<std::size_t>(compressed.size() * 6, std::size_t{1} << 20));
  try {
    io::filtering_istreambuf in;
    switch (c) {
      case Compression::kGzip:
        in.push(io::gzip_decompressor(io::zlib::default_window_bits, kBlock));
        break;
      case Compression::kXz: in.push(io::lzma_decompressor(kBlock)); break;
      case Compression::kBzip2: in.push(io::bzip2_decompressor(false, kBlock)); break;
      case Compression::kNone: break;
    }
    in.push(io::array_source(compressed.data(), compressed.size()), kBlock);
    for (;;) {
      text.make_room();
      const std::streamsize n = in.sgetn(text.tail(), static_cast<std::streamsize>(text.room()));
      if (n <= 0) break;
      text.grew_by(static_cast<std::size_t>(n));
    }
  } catch (const std::exception& e) {
    throw DataError(name, 0, 0, describe(c, e));
  }
  return text;
}

}  // namespace

InputBuffer read_input(const std::string& path) {
  if (path == "-") {
    const std::string name = "<stdin>";
    Buffer raw = read_all(STDIN_FILENO, 0, name);
    const Compression c = compression_by_magic(raw.view());
    if (c == Compression::kNone) return std::move(raw).finish(name);
    return decompress(c, raw.view(), name).finish(name);
  }
  const Compression c = compression_by_suffix(path);
  if (c == Compression::kNone) return load_plain(path);
  return decompress(c, read_compressed(path).view(), path).finish(path);
}

}  // namespace localsgd::libsvm
