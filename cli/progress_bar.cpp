#include "progress_bar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace localsgd::cli {
namespace {

constexpr int kWidth = 24;  // characters of the bar itself
constexpr auto kRedraw = std::chrono::milliseconds(200);

// 12,345,678
std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string duration(double seconds) {
  char text[32];
  if (seconds < 10)
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  else if (seconds < 60)
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 3600)
    std::snprintf(text, sizeof text, "%d min %02d s", static_cast<int>(seconds / 60),
                  static_cast<int>(seconds) % 60);
  else
    std::snprintf(text, sizeof text, "%d h %02d min", static_cast<int>(seconds / 3600),
                  static_cast<int>(seconds / 60) % 60);
  return text;
}

std::string rate(double per_second) {
  char text[32];
  if (per_second >= 1e6)
    std::snprintf(text, sizeof text, "%.1fM", per_second / 1e6);
  else if (per_second >= 1e3)
    std::snprintf(text, sizeof text, "%.1fk", per_second / 1e3);
  else
    std::snprintf(text, sizeof text, "%.0f", per_second);
  return text;
}

}  // namespace

ProgressBar::ProgressBar(std::ostream& out) : out_(out) {}

ProgressBar::~ProgressBar() {
  stop(false);
}

void ProgressBar::on_start(std::int64_t steps, std::int64_t samples_per_step,
                           std::shared_ptr<const std::atomic<std::int64_t>> steps_done) {
  steps_ = steps;
  samples_per_step_ = samples_per_step;
  done_ = std::move(steps_done);
  start_ = done_->load(std::memory_order_relaxed);  // a resumed run starts there
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { run(); });
}

void ProgressBar::on_progress(const core::Progress& progress) {
  std::lock_guard lock(mutex_);
  suboptimality_ = progress.quality.suboptimality;
}

void ProgressBar::on_end(const core::TrainSummary&) {
  stop(true);
}

std::string ProgressBar::line(std::int64_t done, std::int64_t steps, std::int64_t start,
                              double seconds, std::int64_t samples_per_step,
                              std::optional<double> suboptimality) {
  const double fraction =
      steps > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(steps), 0.0, 1.0)
                : 1.0;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string text = "train [" + std::string(static_cast<std::size_t>(filled), '#') +
                     std::string(static_cast<std::size_t>(kWidth - filled), '-') + "] ";
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3.0f%%", 100 * fraction);
  text += percent;
  text += "  " + grouped(done) + "/" + grouped(steps) + " steps";
  const double new_steps = static_cast<double>(done - start);
  if (seconds > 0 && new_steps > 0) {
    text += "  " + rate(new_steps * static_cast<double>(samples_per_step) / seconds) + " samples/s";
    if (done < steps)
      text += "  ETA " + duration(static_cast<double>(steps - done) * seconds / new_steps);
    else
      text += "  " + duration(seconds);
  }
  if (suboptimality) {
    char gap[32];
    std::snprintf(gap, sizeof gap, "  f-f* %.3g", *suboptimality);
    text += gap;
  }
  return text;
}

void ProgressBar::draw(bool last) {  // last: the final state, kept on its line
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::optional<double> gap;
  {
    std::lock_guard lock(mutex_);
    gap = suboptimality_;
  }
  const std::int64_t done = done_->load(std::memory_order_relaxed);
  // \r and "erase to the end of the line" redraw in place; the last one stays.
  out_ << '\r' << line(done, steps_, start_, seconds, samples_per_step_, gap) << "\x1b[K"
       << (last ? "\n" : "") << std::flush;
}

void ProgressBar::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kRedraw, [this] { return stopping_; })) {
    lock.unlock();
    draw(false);
    lock.lock();
  }
}

void ProgressBar::stop(bool finished) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (finished)
    draw(true);
  else
    out_ << "\r\x1b[K" << std::flush;  // a failed run: its message follows, not a bar
}

RunCounter::RunCounter(std::ostream& out) : out_(out), started_(std::chrono::steady_clock::now()) {}

RunCounter::~RunCounter() {
  std::lock_guard lock(mutex_);
  if (open_) out_ << "\r\x1b[K" << std::flush;  // a failed sweep: its message follows
}

std::string RunCounter::line(std::size_t done, std::size_t total, double seconds) {
  std::string text = "sweep " + grouped(static_cast<std::int64_t>(done)) + "/" +
                     grouped(static_cast<std::int64_t>(total)) + " runs  " + duration(seconds);
  // Runs differ in length (abandoned ones end early): an estimate, not a promise.
  if (done > 0 && done < total)
    text += "  ETA " +
            duration(seconds * static_cast<double>(total - done) / static_cast<double>(done));
  return text;
}

void RunCounter::finished(std::size_t done, std::size_t total) {
  std::lock_guard lock(mutex_);
  done_ = std::max(done_, done);
  total_ = total;
  const auto now = std::chrono::steady_clock::now();
  if (open_ && now - drawn_ < kRedraw && done_ < total_) return;
  drawn_ = now;
  open_ = true;
  out_ << '\r' << line(done_, total_, std::chrono::duration<double>(now - started_).count())
       << "\x1b[K" << std::flush;
}

void RunCounter::clear() {
  std::lock_guard lock(mutex_);
  if (!open_) return;
  out_ << "\r\x1b[K" << std::flush;
  open_ = false;
}

void RunCounter::close() {
  std::lock_guard lock(mutex_);
  if (total_ == 0) return;  // no run finished (or none was planned): nothing to keep
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  out_ << '\r' << line(done_, total_, seconds) << "\x1b[K\n" << std::flush;
  open_ = false;
}

SolveMeter::SolveMeter(std::ostream& out) : out_(out), started_(std::chrono::steady_clock::now()) {}

SolveMeter::~SolveMeter() {
  if (open_) out_ << "\r\x1b[K" << std::flush;  // a failed solve: its message follows
}

std::optional<double> solve_eta(std::span<const double> gaps, double target, double told_at,
                                double now) {
  const std::size_t n = gaps.size();
  if (n < 2) return std::nullopt;
  const auto orders = [](double from, double to) { return std::log10(from / to); };
  const double left = orders(gaps[n - 1], target);
  const double last = orders(gaps[n - 2], gaps[n - 1]);
  if (!(left > 0 && last > 0 && std::isfinite(left) && std::isfinite(last))) return std::nullopt;
  double growth = 1;
  if (n >= 3) {
    const double before = orders(gaps[n - 3], gaps[n - 2]);
    if (before > 0) growth = std::clamp(last / before, 1.0, 2.0);
  }
  double fall = growth > 1 ? last : orders(gaps[0], gaps[n - 1]) / static_cast<double>(n - 1);
  if (!(fall > 0)) fall = last;
  std::int64_t iterations = 0;
  for (double fallen = 0; fallen < left && iterations < 100000; ++iterations) {
    fall *= growth;
    fallen += fall;
  }
  const double per_iteration = told_at / static_cast<double>(n);  // the first ends after a step
  return std::max(0.0, static_cast<double>(iterations) * per_iteration - (now - told_at));
}

std::string SolveMeter::line(const core::SolveIteration& it, double seconds,
                             std::optional<double> eta) {
  char gap[64];
  std::snprintf(gap, sizeof gap, "f - f* <= %.2g (stops at %.2g)", it.gap, it.target_gap);
  std::string text = std::string("solve ") + it.method + "  iteration " +
                     std::to_string(it.iteration) + "  " + gap + "  " + duration(seconds);
  if (eta) text += "  ETA " + duration(*eta);
  return text;
}

void SolveMeter::iteration(const core::SolveIteration& it) {
  const auto now = std::chrono::steady_clock::now();
  gaps_.push_back(it.gap);
  told_at_ = std::chrono::duration<double>(now - started_).count();
  last_ = it;
  method_ = it.method;
  last_->method = method_.c_str();
  if (open_ && now - drawn_ < kRedraw) return;
  drawn_ = now;
  draw("");
}

std::string SolveMeter::first_line(const char* method, double seconds) {
  return std::string("solve ") + method + "  iteration 0  (first step)  " + duration(seconds);
}

void SolveMeter::working(const char* method) {
  const auto now = std::chrono::steady_clock::now();
  // Not before an interval has passed, so a quick solve's line is as it was.
  if (open_ ? now - drawn_ < kRedraw : now - started_ < kRedraw) return;
  drawn_ = now;
  if (last_) {
    draw("");  // the last iteration's line, its clock and ETA moved on
    return;
  }
  method_ = method;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  out_ << '\r' << first_line(method, seconds) << "\x1b[K" << std::flush;
  open_ = true;
}

void SolveMeter::draw(const char* end) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  // The closing line has no ETA (a solve stopped by its iteration limit has one left).
  const bool closing = *end != '\0';
  const std::optional<double> eta =
      closing ? std::nullopt : solve_eta(gaps_, last_->target_gap, told_at_, seconds);
  out_ << '\r' << line(*last_, seconds, eta) << "\x1b[K" << end << std::flush;
  open_ = true;
}

void SolveMeter::close(std::int64_t iterations) {
  if (!last_) return;
  last_->iteration = iterations;  // the last iteration told was the one before its step
  draw("\n");
  open_ = false;
}

}  // namespace localsgd::cli
