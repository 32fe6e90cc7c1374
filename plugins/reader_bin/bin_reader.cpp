// Reader for the binary cache format of localsgd/binary_format.hpp (`localsgd data convert
// IN OUT.bin` writes it).
//
// The file is memory-mapped and handed to binary::parse_binary, which checks everything
// (magic, version, both checksums, sizes against the file length, the CSR structure)
// before copying the arrays out: a truncated or corrupted file is a DataError, never a
// crash or a silently wrong data set. Copying from the mapping costs one memcpy per array;
// keeping the mapping alive instead would need a Dataset that does not own its storage.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <localsgd/binary_format.hpp>
#include <localsgd/sdk.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using localsgd::DataError;

// A read-only mapping of a whole regular file, unmapped (and closed) on destruction.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    if (S_ISDIR(st.st_mode)) throw DataError(path_, 0, 0, "is a directory, expected a data file");
    if (!S_ISREG(st.st_mode))
      throw DataError(path_, 0, 0,
                      "not a regular file: the bin reader memory-maps its input (a pipe or "
                      "device cannot be mapped)");
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ == 0) return;  // mmap refuses length 0; parse_binary reports the empty file
    // MAP_POPULATE reads the whole file in up front: we touch every byte anyway
    // (checksum), and one big read beats a page fault per 4 KiB.
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, 0);
    if (p == MAP_FAILED) fail("cannot map");
    data_ = p;
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw DataError(path_, 0, 0, std::string(what) + ": " + std::strerror(errno));
  }

  std::string path_;
  int fd_ = -1;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// "not a localsgd binary data file" would be true but unhelpful for w8a.bin.xz.
void refuse_compressed(const std::string& path, const void* data, std::size_t size) {
  const std::string_view head(static_cast<const char*>(data), std::min<std::size_t>(size, 6));
  const char* kind = nullptr;
  if (head.starts_with("\x1f\x8b")) kind = "gzip";
  if (head.starts_with("\xfd"
                       "7zXZ"))
    kind = "xz";
  if (head.starts_with("BZh")) kind = "bzip2";
  if (kind != nullptr)
    throw DataError(path, 0, 0,
                    std::string("is ") + kind +
                        "-compressed; the bin reader maps the file as it is: decompress it first");
}

class BinReader final : public localsgd::Reader {
 public:
  explicit BinReader(const localsgd::ParamMap&) {}

  localsgd::Dataset read(const localsgd::ReadRequest& request) const override {
    if (request.path.empty()) throw DataError("", 0, 0, "bin reader needs a file (--data FILE)");
    const MappedFile file(request.path);
    static const unsigned char kEmpty = 0;  // parse_binary wants a pointer even for 0 bytes
    const void* image = file.size() > 0 ? file.data() : &kEmpty;
    refuse_compressed(request.path, image, file.size());
    return localsgd::binary::parse_binary(image, file.size(), request.path);
  }
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<BinReader>(
    "bin", "1.0.0",
    "localsgd binary CSR cache (LSGDCSR, version 1): memory-mapped, checksummed, validated", {});

}  // namespace

LOCALSGD_PLUGIN(kManifest)
