#include "localsgd/core/run/commands.hpp"

#include <cstdint>
#include <map>
#include <optional>

#include "localsgd/core/data/data_summary.hpp"
#include "localsgd/core/data/data_writers.hpp"
#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/make_model.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/solve/solve.hpp"

namespace localsgd::core {
namespace {

using nlohmann::ordered_json;

// A table lists at most this many label values: a regression target may have one per
// row. JSON always has them all.
constexpr std::size_t kLabelsShown = 20;

std::string labels_text(const std::map<double, std::int64_t>& labels) {
  std::string text;
  std::size_t shown = 0;
  for (const auto& [value, count] : labels) {
    if (shown++ == kLabelsShown) {
      text += " ... (" + std::to_string(labels.size() - kLabelsShown) + " more)";
      break;
    }
    text += (text.empty() ? "" : ", ") + format_number(value) + ": " + std::to_string(count);
  }
  return text;
}

}  // namespace

void check_solvable(const Problem& problem) {
  const Manifest& manifest = problem.objective_manifest();
  if (!call_plugin(manifest, "curvature", [&] { return problem.objective().curvature().convex; }))
    throw UsageError("objective '" + std::string(manifest.name) +
                     "' does not declare itself convex; solve finds the optimum of convex "
                     "objectives only");
}

ordered_json solve_problem(const Problem& problem, const std::string& out,
                           const SolveOptions& options) {
  const Manifest& manifest = problem.objective_manifest();
  const Objective& objective = problem.objective();
  check_solvable(problem);
  const SolveResult r =
      call_plugin(manifest, "solve", [&] { return solve(objective, problem.data(), options); });
  if (!r.converged)
    throw RuntimeFailure(unconverged_message(r) + "; f* is at most that f (no model written)");
  if (!out.empty())
    save_model(out, make_model(manifest, problem.spec().objective.params, objective,
                               problem.data().cols, r.x));
  ordered_json e;
  e["event"] = "solve";
  e["schema"] = 1;
  e["plugin"] = manifest.name;
  e["data"] = problem.dataset().source;
  e["rows"] = problem.data().rows();
  e["cols"] = problem.data().cols;
  e["dimension"] = r.x.size();
  e["method"] = r.method;
  e["fstar"] = r.fstar;
  e["grad_norm"] = r.grad_norm;
  e["iterations"] = r.iterations;
  e["model"] = out.empty() ? ordered_json() : ordered_json(out);
  e["seconds"] = r.seconds;
  return e;
}

ordered_json inspect_data(const DataRequest& request, bool labels_as_text) {
  const DataSummary s =
      summarize(load_dataset(request.file, request.reader.name, request.reader.params));
  const auto optional = [](const std::optional<double>& v) {
    return v ? ordered_json(*v) : ordered_json();
  };
  ordered_json e;
  e["event"] = "inspect";
  e["schema"] = 1;
  e["source"] = s.source;
  e["rows"] = s.rows;
  e["cols"] = s.cols;
  e["nnz"] = s.nnz;
  e["density"] = s.density;
  if (labels_as_text) {
    e["labels"] = labels_text(s.labels);
  } else {
    ordered_json labels = ordered_json::object();
    for (const auto& [value, count] : s.labels) labels[format_number(value)] = count;
    e["labels"] = labels;
  }
  e["distinct_labels"] = s.labels.size();
  e["min_value"] = optional(s.min_value);
  e["max_value"] = optional(s.max_value);
  e["empty_rows"] = s.empty_rows;
  return e;
}

ordered_json convert_data(const DataRequest& request, const std::string& out,
                          const std::string& to) {
  if (out == "-")  // stdout carries the convert event; a file named "-" is a trap
    throw UsageError("data convert writes to a file, not to standard output ('-')");
  // Checked before reading: a typo in --to should not cost a parse of a large file.
  const DataFormat format = to.empty() ? data_format_for(out) : parse_data_format(to);
  check_output_path(out);
  const Dataset data = load_dataset(request.file, request.reader.name, request.reader.params);
  write_data_file(out, data, format);
  ordered_json e;
  e["event"] = "convert";
  e["schema"] = 1;
  e["source"] = data.source;
  e["rows"] = data.rows();
  e["cols"] = data.cols;
  e["nnz"] = data.nnz();
  e["to"] = to_string(format);
  e["out"] = out;
  return e;
}

}  // namespace localsgd::core
