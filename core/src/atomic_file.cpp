#include "localsgd/core/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

#include "localsgd/errors.hpp"

namespace localsgd::core {
namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(path.string(), 0, 0,
                    "cannot write: directory " + dir.string() + " does not exist");
  const fs::path temp =
      dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
  try {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw DataError(path.string(), 0, 0, std::string("cannot write: ") + std::strerror(errno));
    write(out);
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

}  // namespace localsgd::core
