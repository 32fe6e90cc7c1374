#include "localsgd/core/io/input_file.hpp"

#include <sys/stat.h>

namespace localsgd::core {

std::optional<std::string> input_file_problem(const std::filesystem::path& path,
                                              std::uintmax_t max_bytes) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  if (S_ISDIR(info.st_mode)) return "is a directory";
  if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)) return "is a device";
  if (S_ISREG(info.st_mode) && static_cast<std::uintmax_t>(info.st_size) > max_bytes)
    return "is " + std::to_string(info.st_size) + " bytes, more than the " +
           std::to_string(max_bytes) + " such a file may have";
  return std::nullopt;
}

}  // namespace localsgd::core
