// Progress on a terminal (stderr). For `train`: steps, samples/s, ETA and, when the
// run evaluates with f* known, the current f(x̂) − f*. A thread redraws it five times a
// second from the engine's step count; it never touches the run, and stdout keeps only
// data.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "localsgd/core/run/callbacks.hpp"
#include "localsgd/core/solve/solve.hpp"

namespace localsgd::cli {

class ProgressBar final : public core::TrainCallback {
 public:
  explicit ProgressBar(std::ostream& out);
  ~ProgressBar() override;
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void on_start(std::int64_t steps, std::int64_t samples_per_step,
                std::shared_ptr<const std::atomic<std::int64_t>> steps_done) override;
  void on_progress(const core::Progress& progress) override;
  void on_end(const core::TrainSummary& summary) override;

  // The bar for `done` of `steps` after `seconds`, without control characters (tests).
  static std::string line(std::int64_t done, std::int64_t steps, std::int64_t start, double seconds,
                          std::int64_t samples_per_step, std::optional<double> suboptimality);

 private:
  void run();
  void draw(bool last);
  void stop(bool finished);

  std::ostream& out_;
  std::int64_t steps_ = 0, samples_per_step_ = 0, start_ = 0;
  std::shared_ptr<const std::atomic<std::int64_t>> done_;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<double> suboptimality_;
  std::thread thread_;
};

// For `sweep`: runs finished of planned, elapsed time and ETA, redrawn (at most five times
// a second) by whichever thread finished a run; the last state stays on its line.
class RunCounter {
 public:
  explicit RunCounter(std::ostream& out);
  ~RunCounter();  // ends the line (without the final state if the sweep failed)
  RunCounter(const RunCounter&) = delete;
  RunCounter& operator=(const RunCounter&) = delete;

  void finished(std::size_t done, std::size_t total);  // thread-safe
  void close();                                        // the sweep ended: keep the line
  // Clears the line (thread-safe) so that a row printed to the same terminal starts at its
  // left edge; the next finished run draws it again.
  void clear();

  // The line for `done` of `total` runs after `seconds`, without control characters.
  static std::string line(std::size_t done, std::size_t total, double seconds);

 private:
  std::ostream& out_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point started_, drawn_;
  std::size_t done_ = 0, total_ = 0;
  bool open_ = false;
};

// For `solve`: the method, its iteration, the bound on f - f* against the one it stops at,
// elapsed time and, once the bound has fallen, an ETA from its rate of fall on a log scale
// (Newton's superlinear end comes sooner). Redrawn at most five times a second, from the
// solver's thread; the last state stays on its line.
class SolveMeter {
 public:
  explicit SolveMeter(std::ostream& out);
  ~SolveMeter();  // ends the line (without the final state if the solve failed)
  SolveMeter(const SolveMeter&) = delete;
  SolveMeter& operator=(const SolveMeter&) = delete;

  void iteration(const core::SolveIteration& it);
  // Work inside `iteration` (at most one redraw per interval): the clock moves on; before
  // the first iteration's end, the line says which step is under way.
  void working(const char* method);
  void close(std::int64_t iterations);  // the solve ended after them: keep the line

  // The line after `seconds`, without control characters; `first_gap` the first
  // iteration's gap (for the ETA).
  static std::string line(const core::SolveIteration& it, double first_gap, double seconds);
  // The line while the first iteration runs, when no gap is known yet.
  static std::string first_line(const char* method, double seconds);

 private:
  void draw(const char* end);

  std::ostream& out_;
  std::chrono::steady_clock::time_point started_, drawn_;
  std::optional<core::SolveIteration> last_;
  std::string method_;  // last_.method points into the solver's result, which moves
  double first_gap_ = 0;
  bool open_ = false;
};

}  // namespace localsgd::cli
