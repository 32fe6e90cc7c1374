#include "localsgd/core/io/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include "localsgd/atomic_file.hpp"

namespace localsgd::core {
namespace fs = std::filesystem;
namespace {

// The temporary file being written, for the signal handler (no allocation there). The
// flag is a lock-free atomic, not a volatile sig_atomic_t, because the signal may be
// handled on another thread: release/acquire make the path visible before the flag.
char g_partial_path[4096];
std::atomic<bool> g_partial_active{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler reads the flag");

class PartialOutputGuard {
 public:
  explicit PartialOutputGuard(const fs::path& temp) {
    const std::string& s = temp.native();
    if (s.size() >= sizeof g_partial_path) return;  // too long to keep: not removed on a signal
    std::memcpy(g_partial_path, s.c_str(), s.size() + 1);
    g_partial_active.store(true, std::memory_order_release);
  }
  ~PartialOutputGuard() { g_partial_active.store(false, std::memory_order_release); }
  PartialOutputGuard(const PartialOutputGuard&) = delete;
  PartialOutputGuard& operator=(const PartialOutputGuard&) = delete;
};

}  // namespace

void remove_partial_output() noexcept {
  if (g_partial_active.load(std::memory_order_acquire)) ::unlink(g_partial_path);
}

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  localsgd::write_file_atomically<PartialOutputGuard>(path, write);
}

}  // namespace localsgd::core
