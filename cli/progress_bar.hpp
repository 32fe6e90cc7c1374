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
#include <span>
#include <string>
#include <thread>
#include <vector>

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
// elapsed time and, once the bound has fallen twice, an ETA (solve_eta). Redrawn at most
// five times a second, from the solver's thread; the last state stays on its line.
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

  // The line after `seconds`, without control characters, with the ETA `eta` if known.
  static std::string line(const core::SolveIteration& it, double seconds,
                          std::optional<double> eta);
  // The line while the first iteration runs, when no gap is known yet.
  static std::string first_line(const char* method, double seconds);

 private:
  void draw(const char* end);

  std::ostream& out_;
  std::chrono::steady_clock::time_point started_, drawn_;
  std::optional<core::SolveIteration> last_;
  std::string method_;        // last_.method points into the solver's result, which moves
  std::vector<double> gaps_;  // every iteration's bound, in order
  double told_at_ = 0;        // seconds from the start to the last iteration's end
  bool open_ = false;
};

// Seconds a solve has left, from the bounds on f - f* after each of its iterations so far
// (`gaps`, the last told `told_at` seconds after the start, which is `now`), down to
// `target`; none before two bounds have fallen. The iterations left are those the bound
// needs to fall through, each falling (in orders of magnitude) by the last one's fall
// times its growth over the one before, between 1 (a linear rate: gradient methods, and
// then the average fall) and 2 (Newton's quadratic end doubles the digits per step); each
// takes the mean iteration's time, less what the current one has taken. A linear
// extrapolation of the whole fall overstated Newton's ETA 2.5-3x and grew while an
// iteration ran.
std::optional<double> solve_eta(std::span<const double> gaps, double target, double told_at,
                                double now);

}  // namespace localsgd::cli
