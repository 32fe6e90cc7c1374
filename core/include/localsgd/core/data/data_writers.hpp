// Writing a Dataset back out, for `localsgd data convert`: canonical LIBSVM text, dense
// CSV, or the binary cache of the SDK's localsgd/binary_cache.hpp.
//
// Canonical LIBSVM is "label idx:val ..." with 1-based indices, every stored entry kept
// (explicit zeros too) and every number in the shortest form that reads back to the same
// double (std::to_chars), so text -> bin -> text reproduces the text byte for byte.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

enum class DataFormat { libsvm, csv, bin };

const char* to_string(DataFormat format);

// "libsvm", "csv" or "bin"; UsageError otherwise.
DataFormat parse_data_format(const std::string& name);

// By suffix: .csv -> csv, .bin -> bin, anything else -> libsvm.
DataFormat data_format_for(const std::filesystem::path& path);

// LIBSVM text as described above; an empty row is its label alone.
void write_libsvm(std::ostream& out, const DataView& data);

// A header "label,f1,...,fd" (d = data.cols), then one dense line per row, label first.
// Explicit zeros cannot be told apart from missing entries here.
void write_csv(std::ostream& out, const DataView& data);

// Writes `data` to `path` in `format`, atomically (write_file_atomically). Refuses a
// compressed suffix (.gz, .xz, .bz2) with a UsageError: output is never compressed.
void write_data_file(const std::filesystem::path& path, const Dataset& data, DataFormat format);

}  // namespace localsgd::core
