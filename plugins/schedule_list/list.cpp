// An explicit sync set I_T: average all workers after exactly the given steps, e.g. to
// replay a schedule found elsewhere. Steps must be strictly increasing positive integers;
// steps past T are ignored. With steps=..., entries are comma-separated; with file=...,
// one step per line (blank lines and '#' comments are skipped).
#include <localsgd/sdk.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using localsgd::DataError;
using localsgd::ParamError;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

class List final : public localsgd::Schedule {
 public:
  explicit List(const localsgd::ParamMap& params) {
    if (params.has("steps") == params.has("file"))
      throw ParamError("parameters steps and file: give exactly one of them");
    if (params.has("steps")) {
      const std::string text = params.text("steps", "");
      std::string_view rest = text;
      for (std::size_t n = 1;; ++n) {
        const auto comma = rest.find(',');
        // Why an entry is wrong, with the parameter and the entry's position.
        add(trim(rest.substr(0, comma)), [&](const std::string& why) {
          throw ParamError("parameter steps=" + text + ": entry " + std::to_string(n) + " " + why);
        });
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else {
      const std::string file = params.text("file", "");
      std::ifstream in(file);
      if (!in) throw DataError(file, 0, 0, "cannot open the sync-step file (parameter file)");
      std::string line;
      for (std::int64_t n = 1; std::getline(in, line); ++n) {
        const std::string_view entry = trim(std::string_view(line).substr(0, line.find('#')));
        if (entry.empty()) continue;
        const std::int64_t column = entry.data() - line.data() + 1;
        add(entry,
            [&](const std::string& why) { throw DataError(file, n, column, "step " + why); });
      }
      if (in.bad()) throw DataError(file, 0, 0, "read error");
      if (steps_.empty()) throw DataError(file, 0, 0, "no sync steps in the file");
    }
  }

  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    const auto it = std::upper_bound(steps_.begin(), steps_.end(), ctx.step);
    return {it == steps_.end() ? std::max(ctx.total_steps, ctx.step) + 1 : *it, 0};
  }
  // The largest gap between syncs, counting the first one from step 0.
  std::int64_t nominal_period() const override { return period_; }

 private:
  template <class Fail>
  void add(std::string_view entry, Fail fail) {
    std::int64_t step = 0;
    const auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), step);
    const std::string quoted = "'" + std::string(entry) + "'";
    if (entry.empty() || ec != std::errc() || end != entry.data() + entry.size() || step < 1)
      fail(quoted + ": expected a positive integer");
    const std::int64_t previous = steps_.empty() ? 0 : steps_.back();
    if (step <= previous)
      fail(quoted + ": steps must be strictly increasing (previous " + std::to_string(previous) +
           ")");
    period_ = std::max(period_, step - previous);
    steps_.push_back(step);
  }

  std::vector<std::int64_t> steps_;
  std::int64_t period_ = 1;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"steps", "", "comma-separated sync steps, strictly increasing, e.g. 1,2,4,8,16"},
    {"file", "", "file with one sync step per line ('#' comments allowed); instead of steps"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<List>(
    "list", "1.0.0", "average all workers after exactly the listed steps", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
