#include "localsgd/core/data/loading.hpp"

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "localsgd/core/data/validation.hpp"

#include "localsgd/core/errors.hpp"
#include "localsgd/core/plugins/plugins.hpp"

namespace localsgd::core {

std::string format_for_suffix(std::string_view name) {
  if (name.ends_with(".csv")) return "csv";
  if (name.ends_with(".bin")) return "bin";
  return "libsvm";
}

std::string default_reader_for(const std::string& path) {
  if (path.empty()) return "synthetic";
  std::string_view name = path;
  for (std::string_view compressed : kCompressedSuffixes)
    if (name.ends_with(compressed)) name.remove_suffix(compressed.size());
  const std::string builtin = format_for_suffix(name);
  if (builtin != "libsvm") return builtin;  // .csv and .bin keep their readers
  // A file with a suffix may belong to a reader plugin that claims it (loading every
  // plugin in the search path to ask; a name without a dot never does).
  if (std::filesystem::path(path).filename().string().find('.') == std::string::npos)
    return builtin;
  const std::string claimed = reader_claiming(path);
  return claimed.empty() ? builtin : claimed;
}

std::string reader_for(const std::string& path, const std::string& reader) {
  return !reader.empty() ? reader : default_reader_for(path);
}

bool generates_rows(const std::string& reader) {
  return !reader.empty() &&
         std::string_view(load_plugin(reader, PluginKind::reader).name) == "synthetic";
}

Dataset load_dataset(const std::string& path, const std::string& reader, const ParamMap& params,
                     const RowSelector& select_rows) {
  const std::string reader_name = reader_for(path, reader);
  const Manifest& manifest = load_plugin(reader_name, PluginKind::reader);
  // The generator would ignore the file and train or score on its own rows.
  if (std::string_view(manifest.name) == "synthetic" && !path.empty())
    throw UsageError("reader synthetic generates its rows and reads no file, not " + path +
                     " (drop --reader synthetic to read it)");
  auto instance = make_reader(manifest, params);
  Dataset data = call_plugin(manifest, "read", [&] { return instance->read({path, select_rows}); });
  if (data.rows() == 0) throw DataError(path, 0, 0, "the data set has no rows");
  validate_reader_output(data, manifest.name, path);
  // Rows left empty that nobody asked to skip would be trained on as rows without features.
  if (data.selected_from_entries >= 0 && !select_rows)
    throw PluginError("reader plugin '" + std::string(manifest.name) +
                      "' left some rows' features out (selected_from_entries = " +
                      std::to_string(data.selected_from_entries) +
                      ") though no rows were selected");
  if (data.selected_from_entries >= 0 && data.selected_from_entries < data.nnz())
    throw PluginError("reader plugin '" + std::string(manifest.name) + "' says the file holds " +
                      std::to_string(data.selected_from_entries) +
                      " entries (selected_from_entries)"
                      ", fewer than the " +
                      std::to_string(data.nnz()) + " it returned");
  if (data.source.empty()) data.source = path;
  return data;
}

std::unique_ptr<Objective> build_objective(const Manifest& manifest, const ParamMap& params,
                                           const Dataset& data, std::int64_t cols) {
  std::unique_ptr<Objective> objective;
  try {
    objective = make_objective(manifest, params, data.view(), cols);
  } catch (const DataError& e) {  // objectives do not know the file name; add it
    if (!e.file().empty()) throw;
    throw DataError(data.source, e.line(), e.column(), e.what());
  }
  // The engine's margin fast path indexes the model by column: a margin objective
  // narrower than the data would have it read and write past the model.
  const std::int64_t columns = cols < 0 ? data.cols : cols;
  const std::int64_t dimension =
      call_plugin(manifest, "dimension", [&] { return objective->dimension(); });
  const bool margin = dynamic_cast<const MarginObjective*>(objective.get()) != nullptr;
  if (dimension <= 0 || (margin && dimension < columns))
    throw PluginError("objective plugin '" + std::string(manifest.name) + "' reports dimension " +
                      std::to_string(dimension) +
                      (margin ? ", below the data's " + std::to_string(columns) + " columns"
                              : ", which is not positive"));
  return objective;
}

Dataset copy_rows(const DataView& data, std::span<const std::int64_t> rows) {
  Dataset copy;
  copy.cols = data.cols;
  copy.label.reserve(rows.size());
  copy.row_ptr.reserve(rows.size() + 1);
  for (const std::int64_t i : rows) {
    const SparseRow row = data.row(i);
    copy.index.insert(copy.index.end(), row.index, row.index + row.size);
    copy.value.insert(copy.value.end(), row.value, row.value + row.size);
    copy.row_ptr.push_back(static_cast<std::int64_t>(copy.index.size()));
    copy.label.push_back(data.label[static_cast<std::size_t>(i)]);
  }
  return copy;
}

namespace {

// Shortens `array` to `size` and hands the whole pages beyond it back to the system.
// std::vector::shrink_to_fit would copy the kept part into a new allocation first, next to
// the old one; the vector keeps its capacity instead, whose dropped pages read as zeros
// and cost no memory until written again (MADV_DONTNEED on private anonymous memory).
template <class T>
void release_beyond(std::vector<T>& array, std::size_t size) {
  array.resize(size);
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto used = reinterpret_cast<std::uintptr_t>(array.data() + size);
  const auto end = reinterpret_cast<std::uintptr_t>(array.data() + array.capacity());
  const std::uintptr_t first = (used + page - 1) / page * page, last = end / page * page;
  if (last > first)
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);  // advice only
}

}  // namespace

void keep_only_rows(Dataset& data, std::span<const std::int64_t> rows) {
  if (data.is_external()) throw std::logic_error("keep_only_rows on external arrays");
  // Kept rows only move towards the front, so each is read before anything overwrites it.
  std::size_t entries = 0;
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const auto i = static_cast<std::size_t>(rows[j]);
    const auto begin = static_cast<std::size_t>(data.row_ptr[i]);
    const auto size = static_cast<std::size_t>(data.row_ptr[i + 1]) - begin;
    if (begin != entries) {
      std::memmove(data.index.data() + entries, data.index.data() + begin,
                   size * sizeof(std::int32_t));
      std::memmove(data.value.data() + entries, data.value.data() + begin, size * sizeof(double));
    }
    data.label[j] = data.label[i];
    data.row_ptr[j] = static_cast<std::int64_t>(entries);  // row j's start: i >= j, read above
    entries += size;
  }
  data.row_ptr[rows.size()] = static_cast<std::int64_t>(entries);
  release_beyond(data.row_ptr, rows.size() + 1);
  release_beyond(data.label, rows.size());
  release_beyond(data.index, entries);
  release_beyond(data.value, entries);
}

std::int64_t drop_columns_from(Dataset& data, std::int64_t cols) {
  data.make_owned();
  std::size_t out = 0;
  std::int64_t dropped = 0;
  std::int64_t begin = 0;
  for (std::size_t i = 0; i + 1 < data.row_ptr.size(); ++i) {
    const std::int64_t end = data.row_ptr[i + 1];
    for (std::int64_t e = begin; e < end; ++e) {
      if (data.index[static_cast<std::size_t>(e)] >= cols) {
        ++dropped;
        continue;
      }
      data.index[out] = data.index[static_cast<std::size_t>(e)];
      data.value[out] = data.value[static_cast<std::size_t>(e)];
      ++out;
    }
    begin = end;
    data.row_ptr[i + 1] = static_cast<std::int64_t>(out);
  }
  data.index.resize(out);
  data.value.resize(out);
  data.cols = std::min(data.cols, cols);
  return dropped;
}

}  // namespace localsgd::core
