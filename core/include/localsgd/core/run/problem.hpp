// A problem: the objective built on its data (and test data), with the averaging
// schedule's plugin, loaded and checked once. train, sweep, solve and eval start from
// one; a sweep's runs share it, and with it the objective's curvature estimate and f*.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/run/train_options.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct ProblemSpec {
  PluginChoice objective;
  std::string data;     // "" = the embedded default (synthetic reader)
  PluginChoice reader;  // name "": by suffix, or synthetic without data
  std::string test;     // optional test data, scored with the training run's parameters
  PluginChoice schedule{"constant", {}};
  // Optional: the rows whose features a rank of an MPI run needs (ReadRequest::select_rows).
  RowSelector select_rows;

  static ProblemSpec of(const TrainOptions& options);
};

class Problem {
 public:
  // Loads the plugins and the data and builds the objective; throws the usual errors
  // (UsageError, DataError, PluginError) with their messages.
  explicit Problem(const ProblemSpec& spec);
  ~Problem();
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;

  const ProblemSpec& spec() const { return spec_; }
  // The reader that read the data: --reader, else the one the file's name chose (resolved
  // once: choosing by suffix may scan the plugin directories).
  const std::string& reader_name() const { return reader_name_; }
  const Manifest& objective_manifest() const { return objective_manifest_; }
  const Manifest& schedule_manifest() const { return schedule_manifest_; }
  const Dataset& dataset() const { return *dataset_; }
  DataView data() const { return view_; }
  const Objective& objective() const { return *objective_; }
  // Test data and the objective rebuilt on it from the training run's resolved
  // parameters (e.g. lambda = 1/n of the training data); null without test data.
  const Dataset* test() const { return test_.get(); }
  const Objective* test_objective() const { return test_objective_.get(); }
  // The test file's own column count: more than the training data's when it had features
  // the model has no coefficient for (dropped from test(), as LIBLINEAR's predict does).
  std::int64_t test_file_columns() const { return test_file_columns_; }

  // The spec's schedule parameters overridden by `params`, and a fresh schedule for one
  // run made with them.
  ParamMap schedule_params(const ParamMap& params) const;
  std::unique_ptr<Schedule> make_schedule(const ParamMap& params = {}) const;

  // f* of the objective on the data: solved once (and cached on disk, see
  // fstar_cache.hpp; stored there if `store`); a UsageError naming `why` for objectives
  // that are not convex.
  double fstar(const char* why, std::ostream& log, bool store = true) const;

  double load_seconds() const { return load_seconds_; }  // plugins, data, objective

  // Keeps only the listed rows (ascending, distinct), with the objective rebuilt on them
  // from its resolved parameters, so that it is the whole data's objective restricted to
  // these rows (lambda = 1/n of the whole data, its classes): for a rank of an MPI run
  // that needs only its workers' rows after set-up. Rows the problem owns (a parsed text
  // file) move to the front in place and the rest of the memory is released, so the rows
  // are never held twice; a memory-mapped file's consecutive rows become a view into it,
  // other rows a copy. whole_rows() and whole_nnz() still describe the data as read;
  // curvature() of the new objective is of these rows only, and fstar() must have been
  // called before.
  void keep_rows(std::span<const std::int64_t> rows);
  // Reads the data again and rebuilds the objective on all of it: undoes keep_rows().
  void reload();
  std::int64_t whole_rows() const { return whole_rows_; }
  std::int64_t whole_nnz() const { return whole_nnz_; }
  // The reader honoured spec().select_rows: only the rows it selected hold their features
  // (the others are empty, with their labels) until keep_rows() or reload().
  bool rows_selected() const { return dataset_->selected_from_entries >= 0; }
  // Rows whose features were read from the file: those selected, else whole_rows().
  std::int64_t rows_read() const { return rows_read_; }

 private:
  // The data and the objective on it, as the spec says (the constructor, and reload(),
  // which reads every row).
  void load_training_data(const RowSelector& select_rows);

  std::chrono::steady_clock::time_point load_start_;
  ProblemSpec spec_;
  std::string reader_name_;
  const Manifest& objective_manifest_;
  const Manifest& schedule_manifest_;
  std::unique_ptr<Dataset> dataset_;
  DataView view_;
  std::unique_ptr<Objective> objective_;
  std::unique_ptr<Dataset> test_;
  std::unique_ptr<Objective> test_objective_;
  std::int64_t test_file_columns_ = 0;
  double load_seconds_ = 0;
  std::int64_t whole_rows_ = 0, whole_nnz_ = 0, rows_read_ = 0;
  bool kept_rows_ = false;
  mutable std::once_flag fstar_once_;
  mutable std::optional<double> fstar_;
};

}  // namespace localsgd::core
