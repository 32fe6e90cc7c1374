#include "localsgd/core/run/problem.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/fstar_cache.hpp"
#include "localsgd/core/io/make_model.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/interrupt.hpp"

namespace localsgd::core {

ProblemSpec ProblemSpec::of(const TrainOptions& options) {
  ProblemSpec spec{options.objective, options.data,     options.reader,
                   options.test,      options.schedule, {}};
  // -H is the constant schedule's H (TrainOptions::validate refuses it for other ones).
  if (options.local_steps) spec.schedule.params.set("H", std::to_string(*options.local_steps));
  return spec;
}

Problem::Problem(const ProblemSpec& spec)
    : load_start_(std::chrono::steady_clock::now()),
      spec_(spec),
      reader_name_(reader_for(spec.data, spec.reader.name)),
      objective_manifest_(load_plugin(spec.objective.name, PluginKind::objective)),
      schedule_manifest_(load_plugin(spec.schedule.name, PluginKind::schedule)) {
  // A schedule's parameters are checked now, not when the first run starts.
  make_schedule();
  // Loading keeps nothing a graceful stop could write: a signal ends the process at once.
  const ImmediateInterrupts loading;
  load_training_data(spec.select_rows);
  whole_rows_ = view_.rows();
  whole_nnz_ = rows_selected() ? dataset_->selected_from_entries : view_.nnz();
  if (!spec.test.empty()) {
    // The test file is read as --data is, with the same reader parameters; by its own
    // suffix's reader, without them, when that is another reader (CSV data, LIBSVM test)
    // or the data is generated.
    const std::string test_reader = generates_rows(reader_name_)
                                        ? default_reader_for(spec.test)
                                        : reader_for(spec.test, spec.reader.name);
    test_ = std::make_unique<Dataset>(load_dataset(
        spec.test, test_reader, test_reader == reader_name_ ? spec.reader.params : ParamMap{}));
    test_file_columns_ = test_->cols;
    if (test_->cols > view_.cols) drop_columns_from(*test_, view_.cols);
    test_objective_ =
        build_objective(objective_manifest_, objective_->resolved_params(), *test_, view_.cols);
  }
  load_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start_).count();
}

Problem::~Problem() = default;

namespace {

// A run of consecutive rows of data that lends its arrays (a memory-mapped .bin file):
// a view into the same storage, with its own row offsets (the only copy, 8 bytes a row).
// The rank then touches only the pages of its own rows.
Dataset lend_rows(const Dataset& data, std::int64_t first, std::int64_t end) {
  const DataView whole = data.view();
  const auto begin = static_cast<std::size_t>(whole.row_ptr[static_cast<std::size_t>(first)]);
  const auto stop = static_cast<std::size_t>(whole.row_ptr[static_cast<std::size_t>(end)]);
  auto offsets = std::make_shared<std::vector<std::int64_t>>();
  offsets->reserve(static_cast<std::size_t>(end - first + 1));
  for (std::int64_t i = first; i <= end; ++i)
    offsets->push_back(whole.row_ptr[static_cast<std::size_t>(i)] -
                       static_cast<std::int64_t>(begin));
  Dataset lent;
  lent.cols = data.cols;
  lent.source = data.source;
  lent.external = {
      *offsets, whole.index.subspan(begin, stop - begin), whole.value.subspan(begin, stop - begin),
      whole.label.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(end - first)),
      data.cols};
  lent.external_owner = std::make_shared<
      std::pair<std::shared_ptr<std::vector<std::int64_t>>, std::shared_ptr<const void>>>(
      offsets, data.external_owner);
  return lent;
}

}  // namespace

void Problem::keep_rows(std::span<const std::int64_t> rows) {
  // The parameters as given, with every default the objective resolved on the whole data
  // made explicit, taken before the rows go.
  const ParamMap params(recorded_params(spec_.objective.params, *objective_));
  const std::int64_t cols = view_.cols;
  objective_.reset();  // it may look into the rows about to move
  if (dataset_->is_external()) {
    const bool consecutive =
        !rows.empty() && rows.back() - rows.front() + 1 == static_cast<std::int64_t>(rows.size());
    auto kept = std::make_unique<Dataset>(
        consecutive ? lend_rows(*dataset_, rows.front(), rows.back() + 1) : copy_rows(view_, rows));
    kept->source = dataset_->source;
    dataset_ = std::move(kept);  // releases the mapping's other pages
  } else {
    keep_only_rows(*dataset_, rows);
  }
  dataset_->selected_from_entries = -1;  // every row kept holds its features
  view_ = dataset_->view();
  kept_rows_ = true;
  objective_ = build_objective(objective_manifest_, params, *dataset_, cols);
}

void Problem::reload() {
  if (spec_.data == "-")
    throw UsageError("standard input cannot be read again to keep every row (give a file)");
  objective_.reset();
  dataset_.reset();                   // not held twice
  const ImmediateInterrupts loading;  // as in the constructor
  load_training_data({});
  kept_rows_ = false;
}

void Problem::load_training_data(const RowSelector& select_rows) {
  std::optional<std::int64_t> selected;  // counted as the reader asks
  RowSelector counting;
  if (select_rows)
    counting = [&](std::span<const double> labels, std::int64_t entries) {
      std::vector<bool> keep = select_rows(labels, entries);
      selected = std::count(keep.begin(), keep.end(), true);
      return keep;
    };
  dataset_ = std::make_unique<Dataset>(
      load_dataset(spec_.data, reader_name_, spec_.reader.params, counting));
  rows_read_ = rows_selected() && selected ? *selected : dataset_->rows();
  view_ = dataset_->view();
  objective_ = build_objective(objective_manifest_, spec_.objective.params, *dataset_);
}

ParamMap Problem::schedule_params(const ParamMap& params) const {
  ParamMap merged = spec_.schedule.params;
  for (const auto& [key, value] : params.all()) merged.set(key, value);
  return merged;
}

std::unique_ptr<Schedule> Problem::make_schedule(const ParamMap& params) const {
  return core::make_schedule(schedule_manifest_, schedule_params(params));
}

double Problem::fstar(const char* why, std::ostream& log, bool store) const {
  std::call_once(fstar_once_, [&] {
    if (kept_rows_ || rows_selected())  // the solve needs all rows
      throw std::logic_error("Problem::fstar without every row");
    if (!objective_->curvature().convex)
      throw UsageError(std::string(why) +
                       " needs f*, and this objective is not convex: give --fstar");
    fstar_ = cached_fstar(objective_manifest_, *objective_, view_, log, store);
  });
  return *fstar_;
}

}  // namespace localsgd::core
