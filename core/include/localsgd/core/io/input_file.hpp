// Files the core reads itself (models, configs): refused up front when
// they are not something that ends, so that /dev/zero or a directory is a one-line error
// rather than a read without bound.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace localsgd::core {

// Why `path` cannot be read as a file of `what` ("model file", ...): it is a directory, a
// device, or larger than max_bytes; nothing when it looks fine (a missing file is left to
// the open that follows, which names it).
std::optional<std::string> input_file_problem(const std::filesystem::path& path,
                                              std::uintmax_t max_bytes);

}  // namespace localsgd::core
