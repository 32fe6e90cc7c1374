// Loading what every command needs: a data set through a reader plugin, and an objective
// built on it. Errors keep their exit codes and name the file they concern.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// Compression suffixes: readers look through them, data writers refuse them.
inline constexpr std::array<std::string_view, 3> kCompressedSuffixes = {".gz", ".xz", ".bz2"};

// The data format a name's suffix names: "csv" (.csv), "bin" (.bin), else "libsvm".
// Compression is not looked through here.
std::string format_for_suffix(std::string_view name);

// The reader for a file by its suffix (a .gz/.xz/.bz2 suffix is looked through):
// .csv -> csv, .bin -> bin, a suffix a reader plugin claims (LOCALSGD_READER_SUFFIXES) ->
// that reader, anything else (and "-", standard input) -> libsvm; no file -> synthetic.
std::string default_reader_for(const std::string& path);

// The reader that reads `path`: `reader` when given, else default_reader_for(path).
std::string reader_for(const std::string& path, const std::string& reader);

// Whether `reader` (a name or a plugin's path) is the synthetic reader, which generates
// its rows and reads no file.
bool generates_rows(const std::string& reader);

using RowSelector = ReadRequest::RowSelector;

// `reader` "" picks default_reader_for(path). Checks the CSR the reader returned (a
// broken reader is a plugin error, an empty data set a data error). `select_rows` is
// passed on to the reader (ReadRequest::select_rows); the result's selected_from_entries
// says whether it was honoured.
Dataset load_dataset(const std::string& path, const std::string& reader, const ParamMap& params,
                     const RowSelector& select_rows = {});

// make_objective, with the data set's name added to data errors the objective raises.
std::unique_ptr<Objective> build_objective(const Manifest& manifest, const ParamMap& params,
                                           const Dataset& data, std::int64_t cols = -1);

// A data set of its own holding copies of the listed rows of `data`, in the listed order
// (a row may be listed twice); no source name.
Dataset copy_rows(const DataView& data, std::span<const std::int64_t> rows);

// Keeps only the listed rows (ascending, distinct) of a data set that owns its arrays,
// moved to the front in place; the memory beyond them goes back to the system at once, so
// that the rows kept are never held twice (copy_rows would hold them next to the whole).
void keep_only_rows(Dataset& data, std::span<const std::int64_t> rows);

// Drops the columns >= cols (for eval of a model trained on fewer columns); returns how
// many stored entries were dropped.
std::int64_t drop_columns_from(Dataset& data, std::int64_t cols);

}  // namespace localsgd::core
