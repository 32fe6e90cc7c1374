// Reader for the binary cache format of the SDK's localsgd/binary_cache.hpp (`localsgd data
// convert IN OUT.bin` writes it).
//
// The file is memory-mapped and handed to validate_binary (binary_validation.hpp), which
// checks everything (magic, version, both checksums, sizes against the file length, the
// CSR structure): a truncated or corrupted file is a DataError, never a crash or a
// silently wrong data set.
// Nothing is copied: the Dataset views the mapping and keeps it alive, so a reload costs
// the checks alone, and processes that load the same file share its pages in the page
// cache.
//
// A mapping sees later writes to its file, and a truncation makes accesses past the new
// end fault (SIGBUS). localsgd never writes a file in place (`data convert` writes a new
// file and renames it over the old, which leaves a mapping of the old one intact); other
// tools must not rewrite a cache in place while a run uses it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <localsgd/readers/compression.hpp>
#include <localsgd/sdk.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "binary_validation.hpp"

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
    if (size_ == 0) return;  // mmap refuses length 0; validate_binary reports the empty file
    // No MAP_POPULATE: it maps the pages in one thread, while the checks fault them in
    // from every thread that hashes a block (measured: faster on w8a, equal on 100 MB).
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
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
  using localsgd::readers::Compression;
  const Compression c =
      localsgd::readers::compression_by_magic({static_cast<const char*>(data), size});
  if (c != Compression::kNone)
    throw DataError(path, 0, 0,
                    std::string("is ") + localsgd::readers::compression_name(c) +
                        "-compressed; the bin reader maps the file as it is: decompress it first");
}

class BinReader final : public localsgd::Reader {
 public:
  explicit BinReader(const localsgd::ParamMap&) {}

  localsgd::Dataset read(const localsgd::ReadRequest& request) const override {
    if (request.path.empty()) throw DataError("", 0, 0, "bin reader needs a file (--data FILE)");
    auto file = std::make_shared<const MappedFile>(request.path);
    alignas(8) static const unsigned char kEmpty[8] = {};  // a pointer even for 0 bytes
    const void* image = file->size() > 0 ? file->data() : kEmpty;
    refuse_compressed(request.path, image, file->size());
    localsgd::Dataset data;
    data.external = localsgd::readers::validate_binary(image, file->size(), request.path);
    data.external_owner = std::move(file);  // the plugin is never unloaded, nor its deleter
    data.cols = data.external.cols;
    data.source = request.path;
    return data;
  }
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<BinReader>(
    "bin", "1.0.0",
    "localsgd binary CSR cache (LSGDCSR, version 2): memory-mapped, checksummed, validated", {});

}  // namespace

LOCALSGD_PLUGIN(kManifest)
