// A sweep's JSON stream as a record to continue from: the sweep_start event that heads it,
// the sweep event that ends it, and reading an earlier stream back (--resume).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/run/sweep.hpp"
#include "localsgd/core/version.hpp"
#include "localsgd/errors.hpp"
#include "run_identity.hpp"

namespace localsgd::core {
namespace {

using nlohmann::ordered_json;

// A point of an earlier stream, checked against this sweep's step-size grid.
SweepPoint point_of(const ordered_json& e, const SweepRequest& request,
                    const std::function<void(const std::string&)>& fail) {
  auto integer = [&](const char* key) {
    const auto v = e.find(key);
    if (v == e.end() || !v->is_number_integer() || v->get<std::int64_t>() < 1)
      fail(std::string("sweep_point without a positive integer \"") + key + "\"");
    return v->get<std::int64_t>();
  };
  // null: not reached (the median is infinite)
  auto steps_or_never = [&](const char* key) {
    const auto v = e.find(key);
    if (v != e.end() && v->is_null()) return std::numeric_limits<double>::infinity();
    if (v == e.end() || !v->is_number() || !(v->get<double>() >= 0))
      fail(std::string("sweep_point without a number or null \"") + key + "\"");
    return v->get<double>();
  };
  SweepPoint p{
      integer("workers"), integer("local_steps"), integer("batch"), {}, 0, 0, 0, {}, {}, {}, {}};
  p.steps = steps_or_never("steps_to_target");
  p.rounds = steps_or_never("rounds");
  for (const SweepRequest::LrAxis& axis : request.lr_grid) {
    const auto v = e.find("lr_" + axis.key);
    if (v == e.end() || !v->is_number() ||
        std::find(axis.values.begin(), axis.values.end(), v->get<double>()) == axis.values.end())
      fail("sweep_point whose \"lr_" + axis.key + "\" is not one of this sweep's values");
    p.lr_values.push_back(v->get<double>());
  }
  // "reached": "r/R", the runs that reached EPS of the R = repeats seeds
  const auto reached = e.find("reached");
  const std::string r =
      reached != e.end() && reached->is_string() ? reached->get<std::string>() : "";
  const std::string of = "/" + std::to_string(request.repeats);
  try {
    std::size_t used = 0;
    if (!r.ends_with(of)) throw std::invalid_argument(r);
    p.reached = std::stoll(r, &used);
    if (used != r.size() - of.size() || p.reached < 0 || p.reached > request.repeats)
      throw std::invalid_argument(r);
  } catch (const std::logic_error&) {
    fail("sweep_point without \"reached\": \"r" + of + "\"");
  }
  // The median reaches EPS only when most runs do, and a point that no run reached has
  // no steps.
  if (std::isfinite(p.steps) != std::isfinite(p.rounds) ||
      (std::isfinite(p.steps) && p.reached == 0))
    fail("sweep_point whose steps, rounds and runs reached disagree");
  return p;
}

}  // namespace

ordered_json sweep_start_event(const ordered_json& identity, const ordered_json& options) {
  ordered_json e;
  e["event"] = "sweep_start";
  e["schema"] = 1;
  e["identity"] = identity;
  e["options"] = options;
  return e;
}

ordered_json sweep_summary_event(const SweepResult& result, const SweepRequest& r) {
  ordered_json summary;
  summary["event"] = "sweep";
  summary["schema"] = 1;
  summary["fstar"] = result.fstar;
  summary["target"] = r.base.target ? *r.base.target : *r.base.target_rel;
  summary["target_kind"] = r.base.target ? "absolute" : "relative";
  summary["repeats"] = r.repeats;
  summary["rho"] = r.rho;
  summary["measure"] = r.measure == SweepRequest::Measured::x_bar ? "x-bar" : "x-hat";
  summary["points"] = result.points.size();
  summary["resumed_points"] = result.resumed_points;
  summary["runs"] = result.runs;
  summary["abandoned_runs"] = result.abandoned_runs;
  if (result.interrupted != 0) {
    summary["planned_points"] = result.planned_points;
    summary["interrupted"] = result.interrupted == SIGINT ? "SIGINT" : "SIGTERM";
  }
  if (result.theory) {  // the estimates behind theory_steps
    summary["L"] = result.theory->L;
    summary["mu"] = result.theory->mu;
    summary["sigma2"] = result.theory->sigma2;
    summary["G2"] = result.theory->G2;
    summary["distance2"] = result.theory->distance2;
  }
  return summary;
}

std::vector<std::string> sweep_csv_columns(const SweepRequest& request) {
  SweepPoint point{1, 1, 1, {}, 0, 0, 0, 0, 0, 0, 0};
  SweepResult result;
  result.interrupted = SIGINT;
  result.theory = TheoryConstants{};
  SweepRequest every = request;
  every.theory = true;
  return union_of_keys({to_json(point, every), sweep_summary_event(result, request)});
}

nlohmann::ordered_json sweep_identity(const SweepRequest& request, const Problem& problem,
                                      double fstar) {
  const TrainOptions& o = request.base;
  ordered_json id;
  id["version"] = version();
  id["fstar"] = fstar;
  id["data"] = data_identity(problem.data());
  id["objective"] = plugin_identity(problem.objective_manifest(), problem.spec().objective.params);
  id["init"] = o.init;
  id["lr"] = to_string(o.step_rule());
  id["lr_params"] = o.lr_params.all();
  ordered_json grid = ordered_json::object();
  for (const SweepRequest::LrAxis& axis : request.lr_grid) grid[axis.key] = axis.values;
  id["lr_grid"] = grid;
  id["sampling"] = to_string(o.sampling);
  id["partition"] = {{"kind", to_string(o.partition)}, {"params", o.partition_params.all()}};
  id["avg_shift"] = o.avg_shift ? ordered_json(*o.avg_shift) : ordered_json();
  id["seed"] = o.seed;
  id["repeats"] = request.repeats;
  id["max_epochs"] = request.max_epochs;
  id["evals_per_epoch"] = request.evals_per_epoch;
  id["measure"] = request.measure == SweepRequest::Measured::x_bar ? "x-bar" : "x-hat";
  id["target"] =
      o.target ? ordered_json{{"absolute", *o.target}} : ordered_json{{"relative", *o.target_rel}};
  return id;
}

std::vector<SweepPoint> resume_points(const std::filesystem::path& path,
                                      const SweepRequest& request, const ordered_json& identity) {
  const std::string file = path.string();
  // Never a read without end (/dev/zero) or an open that blocks (a FIFO).
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw DataError(file, 0, 0,
                    std::filesystem::is_directory(status)
                        ? "is a directory, expected the JSON stream of a sweep to resume"
                        : "is not a regular file, expected the JSON stream of a sweep to resume");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(file, 0, 0, "cannot open the sweep to resume");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError(file, 0, 0, "cannot read the sweep to resume");

  std::vector<std::pair<ordered_json, std::int64_t>> points;  // with their lines
  ordered_json start;
  std::int64_t line_no = 0;
  for (std::size_t at = 0; at < text.size();) {
    ++line_no;
    const std::size_t end = text.find('\n', at);
    // A last line without its newline was cut short by a killed sweep: not a point.
    if (end == std::string::npos) break;
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    const auto fail = [&](const std::string& what) {
      throw DataError(file, line_no, 0,
                      what + " (--resume reads what `sweep --format json` wrote)");
    };
    ordered_json e;
    try {
      e = ordered_json::parse(line);
    } catch (const nlohmann::json::exception&) {  // syntax, or a number beyond double
      fail("not a JSON event");
    }
    if (!e.is_object() || !e.contains("event") || !e["event"].is_string() ||
        e.value("schema", ordered_json()) != 1)
      fail("not a JSON event of schema 1");
    const std::string event = e["event"].get<std::string>();
    if (line_no == 1 && event != "sweep_start")
      fail("the stream does not begin with a sweep_start event");
    if (event == "sweep_start") {
      if (line_no != 1) fail("a second sweep_start event");
      if (!e.contains("identity") || !e["identity"].is_object())
        fail("sweep_start without its identity");
      start = e;
    } else if (event == "sweep_point") {
      points.emplace_back(std::move(e), line_no);
    } else if (event != "sweep") {
      fail("a " + event + " event in a sweep's stream");
    }
  }
  if (start.is_null()) throw DataError(file, 0, 0, "empty: no sweep to resume");
  if (const auto difference = identity_difference(start["identity"], identity, file, "this sweep"))
    throw UsageError("--resume " + file + ": " + *difference +
                     "; a sweep resumes with the same options and data (the grid, --rho, "
                     "--theory, --threads and the outputs may differ)");

  std::vector<SweepPoint> resumed;
  for (const auto& [e, line] : points) {
    const auto fail = [&, line = line](const std::string& what) {
      throw DataError(file, line, 0, what + " (--resume reads what `sweep --format json` wrote)");
    };
    SweepPoint point = point_of(e, request, fail);
    for (const SweepPoint& q : resumed)
      if (q.workers == point.workers && q.local_steps == point.local_steps &&
          q.batch == point.batch)
        fail("the point K = " + std::to_string(q.workers) + ", H = " +
             std::to_string(q.local_steps) + ", b = " + std::to_string(q.batch) + " twice");
    resumed.push_back(std::move(point));
  }
  return resumed;
}

}  // namespace localsgd::core
