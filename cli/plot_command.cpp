// `localsgd plot RUN.jsonl... --out FILE`: the curves of finished runs, from what
// `train --format json` printed (progress events, then the summary), one line per run
// with its legend (K, H or the schedule, b), against epochs, steps, rounds or seconds.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/input_file.hpp"
#include "localsgd/core/io/plot.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::cli {
namespace {

using nlohmann::ordered_json;

struct PlotFlags {
  std::vector<std::string> runs;
  std::string out;
  std::string x = "epochs";
  std::string title;
};

// The x value of an event: progress events say "step", the summary "steps".
const std::map<std::string, std::pair<const char*, const char*>> kAxes = {
    {"epochs", {"epochs", "epochs"}},
    {"steps", {"step", "steps"}},
    {"rounds", {"rounds", "rounds"}},
    {"seconds", {"seconds", "seconds"}}};

struct Run {
  std::string file;
  std::vector<ordered_json> events;  // progress events, then the summary when there is one
  ordered_json summary;              // null when the stream has none
};

Run read_run(const std::string& file) {
  if (const auto problem = core::input_file_problem(file, std::uintmax_t{1} << 30))
    throw DataError(file, 0, 0, *problem + ", expected the output of train --format json");
  std::ifstream in(file);
  if (!in) throw DataError(file, 0, 0, "cannot open");
  Run run{file, {}, nullptr};
  std::string line;
  for (std::int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ordered_json event;
    try {
      event = ordered_json::parse(line);
    } catch (const ordered_json::parse_error& e) {
      throw DataError(file, number, static_cast<std::int64_t>(e.byte),
                      "not a JSON line of train --format json");
    } catch (const ordered_json::exception&) {  // a number beyond double's range
      throw DataError(
          file, number, 0,
          "not a JSON line of train --format json (" + std::string("a number out of range)"));
    }
    if (!event.is_object() || !event.contains("event") || !event["event"].is_string())
      throw DataError(file, number, 1,
                      "not an event of train --format json (an object with \"event\")");
    const std::string kind = event["event"].get<std::string>();
    if (kind != "progress" && kind != "summary") continue;
    if (!run.summary.is_null())
      throw DataError(file, number, 1,
                      "another run after the summary: one run per file (split the file)");
    run.events.push_back(event);
    if (kind == "summary") run.summary = event;
  }
  if (run.events.empty())
    throw DataError(file, 0, 0,
                    "no progress or summary event: write it with train --format json "
                    "(and --eval-every N for a curve)");
  return run;
}

double number_or_nan(const ordered_json& event, const char* key) {
  const auto it = event.find(key);
  return it != event.end() && it->is_number() ? it->get<double>()
                                              : std::numeric_limits<double>::quiet_NaN();
}

void run_plot(const PlotFlags& flags) {
  const auto axis = kAxes.at(flags.x);
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const std::string& file : flags.runs) inputs.emplace_back("the runs file", file);
  refuse_shared_files({{"--out", flags.out}}, inputs);
  core::check_plot_file(flags.out, "--out");
  std::vector<Run> runs;
  for (const std::string& file : flags.runs) runs.push_back(read_run(file));
  // f - f* when every event of every run has it, else f: never two scales in one plot.
  bool suboptimality = true;
  for (const Run& run : runs)
    for (const ordered_json& event : run.events)
      suboptimality =
          suboptimality && event.contains("suboptimality") && event["suboptimality"].is_number();
  const char* y = suboptimality ? "suboptimality" : "objective";

  std::vector<core::PlotSeries> series;
  for (const Run& run : runs) {
    core::PlotSeries line;
    const std::string name = std::filesystem::path(run.file).filename().string();
    line.label = run.summary.is_null() ? name : name + ": " + core::run_label(run.summary);
    bool drawable = false;
    for (const ordered_json& event : run.events) {
      const bool summary = event.value("event", "") == "summary";
      const double xv = number_or_nan(event, summary ? axis.second : axis.first);
      const double yv = number_or_nan(event, y);
      drawable = drawable || (std::isfinite(xv) && std::isfinite(yv) && yv > 0);
      line.points.emplace_back(xv, yv);
    }
    // A run that would silently be missing from the picture is an error naming it.
    if (!drawable)
      throw DataError(run.file, 0, 0,
                      "no event with a number for " + flags.x + " and a positive " + y +
                          " to draw on a log scale");
    series.push_back(std::move(line));
  }
  std::string title = flags.title;
  if (title.empty()) {
    title = "localsgd train";
    const ordered_json& first = runs.front().summary;
    if (!first.is_null())
      title += ": " + first.value("plugin", std::string("?")) + " on " +
               first.value("data", std::string("?"));
  }
  core::draw_curves(flags.out, title, flags.x, suboptimality ? "f(x_hat) - f*" : "f(x_hat)",
                    series);
}

}  // namespace

void set_plot_command(CLI::App& app) {
  auto flags = std::make_shared<PlotFlags>();
  CLI::App* plot =
      app.add_subcommand("plot", "Draw the curves of finished runs (train --format json output)");
  plot->footer(
      "Examples:\n"
      "  localsgd train --plugin logreg --data w8a -K 8 -H 16 --eval-every 500 --format json "
      "> k8.jsonl\n"
      "  localsgd plot k1.jsonl k8.jsonl --out curves.svg --x rounds");
  plot->add_option("runs", flags->runs, "files of JSON lines from train --format json")->required();
  plot->add_option("--out", flags->out, "the picture: a .svg or .png file")->required();
  plot->add_option("--x", flags->x, "x axis: epochs, steps, rounds (communication) or seconds")
      ->check(CLI::IsMember({"epochs", "steps", "rounds", "seconds"}))
      ->capture_default_str();
  plot->add_option("--title", flags->title, "title (default: the first run's plugin and data)");
  plot->callback([flags] { run_plot(*flags); });
}

}  // namespace localsgd::cli
