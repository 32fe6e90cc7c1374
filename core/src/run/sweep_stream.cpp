// A sweep's JSON stream as a record to continue from: the sweep_start event that heads it,
// the sweep event that ends it, and reading an earlier stream back (--resume).
#include <csignal>
#include <functional>
#include <fstream>
#include <limits>
#include <string>

#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/sweep.hpp"
#include "localsgd/core/version.hpp"
#include "localsgd/errors.hpp"

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
  SweepPoint p{integer("workers"), integer("local_steps"), integer("batch"), {}, 0, 0, 0,
               {}, {}, {}, {}};
  p.steps = steps_or_never("steps_to_target");
  p.rounds = steps_or_never("rounds");
  for (const SweepRequest::LrAxis& axis : request.lr_grid) {
    const auto v = e.find("lr_" + axis.key);
    if (v == e.end() || !v->is_number())
      fail("sweep_point without \"lr_" + axis.key + "\", which this sweep tunes");
    p.lr_values.push_back(v->get<double>());
  }
  // "reached": "r/R", the runs that reached EPS of the R seeds (the options, compared by
  // the caller, fix R)
  const auto reached = e.find("reached");
  const std::string r = reached != e.end() && reached->is_string() ? reached->get<std::string>() : "";
  const std::size_t slash = r.find('/');
  try {
    std::size_t used = 0, used_of = 0;
    if (slash == std::string::npos) throw std::invalid_argument(r);
    p.reached = std::stoll(r.substr(0, slash), &used);
    const long long of = std::stoll(r.substr(slash + 1), &used_of);
    if (used != slash || used_of != r.size() - slash - 1 || p.reached < 0 || p.reached > of)
      throw std::invalid_argument(r);
  } catch (const std::logic_error&) {
    fail("sweep_point without \"reached\": \"r/R\"");
  }
  return p;
}

}  // namespace

ordered_json sweep_start_event(double fstar, const ordered_json& options) {
  ordered_json e;
  e["event"] = "sweep_start";
  e["schema"] = 1;
  e["version"] = version();
  e["fstar"] = fstar;
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

SweepStream read_sweep_stream(const std::filesystem::path& path, const SweepRequest& request) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string(), 0, 0, "cannot open the sweep to resume");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError(path.string(), 0, 0, "cannot read the sweep to resume");
  SweepStream stream;
  std::size_t line_no = 0, at = 0;
  while (at < text.size()) {
    ++line_no;
    const std::size_t end = text.find('\n', at);
    // A last line without its newline was cut short by a killed sweep: not a point.
    if (end == std::string::npos) break;
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    auto fail = [&](const std::string& what) {
      throw DataError(path.string(), static_cast<std::int64_t>(line_no), 0,
                      what + " (--resume reads what `sweep --format json` wrote)");
    };
    ordered_json e;
    try {
      e = ordered_json::parse(line);
    } catch (const nlohmann::json::parse_error&) {
      fail("not a JSON event");
    }
    if (!e.is_object() || !e.contains("event") || !e["event"].is_string())
      fail("not a JSON event");
    const std::string event = e["event"].get<std::string>();
    if (line_no == 1 && event != "sweep_start")
      fail("the stream does not begin with a sweep_start event");
    if (event == "sweep_start") {
      if (line_no != 1) fail("a second sweep_start event");
      if (!e.contains("options") || !e.contains("fstar") || !e["fstar"].is_number())
        fail("sweep_start without its options and f*");
      stream.start = e;
    } else if (event == "sweep_point") {
      SweepPoint point = point_of(e, request, fail);
      for (const SweepPoint& q : stream.points)
        if (q.workers == point.workers && q.local_steps == point.local_steps &&
            q.batch == point.batch)
          fail("the point K = " + std::to_string(q.workers) + ", H = " +
               std::to_string(q.local_steps) + ", b = " + std::to_string(q.batch) + " twice");
      stream.points.push_back(std::move(point));
    } else if (event != "sweep") {
      fail("a " + event + " event in a sweep's stream");
    }
  }
  if (stream.start.is_null()) throw DataError(path.string(), 0, 0, "empty: no sweep to resume");
  return stream;
}

}  // namespace localsgd::core
