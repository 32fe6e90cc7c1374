#include "localsgd/core/io/fstar_cache.hpp"
#include "localsgd/core/errors.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/data/data_hash.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "localsgd/core/solve/solve.hpp"

namespace localsgd::core {
namespace fs = std::filesystem;
namespace {

std::string hex(std::uint64_t v) {
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << v;
  return out.str();
}

}  // namespace

fs::path fstar_cache_directory() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/')
    return fs::path(xdg) / "localsgd";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return fs::path(home) / ".cache" / "localsgd";
  return {};
}

double cached_fstar(const Manifest& manifest, const Objective& objective, const DataView& data,
                    std::ostream& log, bool store) {
  const ParamMap params = objective.resolved_params();
  nlohmann::ordered_json key;
  key["objective"] = manifest.name;
  key["version"] = manifest.version;
  key["params"] = params.all();
  key["data"] = hex(dataset_hash(data));
  const std::string key_text = key.dump();
  const std::uint64_t name = binary::hash64(key_text.data(), key_text.size());
  const fs::path dir = fstar_cache_directory();
  const fs::path file = dir.empty() ? fs::path() : dir / ("fstar-" + hex(name) + ".json");

  if (!file.empty()) {
    std::ifstream in(file);
    nlohmann::json cached;
    if (in && (cached = nlohmann::json::parse(in, nullptr, false)).is_object() &&
        cached.value("key", "") == key_text && cached["fstar"].is_number())
      return cached["fstar"].get<double>();
  }

  // A signal while solving (a train run's GracefulInterrupts) stops the solve: the run
  // has not started, so there is nothing to write.
  SolveOptions options;
  // A solve that takes a while says what the wait is for, once.
  const auto start = std::chrono::steady_clock::now();
  bool announced = false;
  options.on_work = [&](std::int64_t iteration, const char* method) {
    if (!announced && std::chrono::steady_clock::now() - start > std::chrono::seconds(2)) {
      log << "localsgd: computing f* by " << method << " (give --fstar to skip this)..."
          << std::endl;
      announced = true;
    }
    const std::atomic<int>* flag = GracefulInterrupts::flag();
    if (const int signal = flag != nullptr ? flag->load() : 0; signal != 0)
      throw Interrupted(exit_code_of_signal(signal),
                        std::string("interrupted by ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                            " while computing f* (iteration " + std::to_string(iteration) + " of " +
                            method + "); no model written");
  };
  options.on_iteration = [&](const SolveIteration& it) {
    options.on_work(it.iteration, it.method);
  };
  const SolveResult solved = solve(objective, data, options);
  if (!solved.converged)
    throw RuntimeFailure("f* for the target: " + unconverged_message(solved) +
                         "; give f* with --fstar");
  log << "localsgd: computed f* = " << std::setprecision(17) << solved.fstar << " by "
      << solved.method << " in " << std::setprecision(3) << solved.seconds << " s";
  if (store && !file.empty()) {
    try {
      std::error_code ec;
      fs::create_directories(dir, ec);
      const nlohmann::ordered_json entry = {
          {"key", key_text}, {"fstar", solved.fstar}, {"grad_norm", solved.grad_norm}};
      write_file_atomically(file, [&](std::ostream& out) { out << entry.dump() << '\n'; });
      log << "; cached in " << file.string();
    } catch (const std::exception&) {
      log << "; cache directory " << dir.string() << " not writable, not cached";
    }
  }
  log << '\n';
  return solved.fstar;
}

}  // namespace localsgd::core
