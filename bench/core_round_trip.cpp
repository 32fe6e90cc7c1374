// How long one cache line takes to go from one core to another and back: two threads
// hand a counter back and forth. A synchronous Local SGD round needs at least one such
// round trip between the threads (the last phase's end, then the next round's start),
// and the average's d doubles cross the cores on top of it; bench/thread_ceiling.py
// prints this next to the CLI's two-thread speedup.
//
//   build/bin/core_round_trip [CPU_A CPU_B]   (default: the first two CPUs the process may use)
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
    std::fprintf(stderr, "core_round_trip: cannot run on CPU %d\n", cpu);
    std::exit(2);
  }
}

void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Median round trip in nanoseconds over `batches` batches of `trips` round trips.
double round_trip_ns(int cpu_a, int cpu_b, long trips, int batches) {
  alignas(64) std::atomic<long> ball{0};
  std::thread partner([&] {
    pin(cpu_b);
    for (long i = 1; i < 2 * trips * batches; i += 2) {
      while (ball.load(std::memory_order_acquire) != i) cpu_pause();
      ball.store(i + 1, std::memory_order_release);
    }
  });
  pin(cpu_a);
  std::vector<double> medians;
  long next = 0;
  for (int b = 0; b < batches; ++b) {
    const auto start = std::chrono::steady_clock::now();
    for (long t = 0; t < trips; ++t, next += 2) {
      ball.store(next + 1, std::memory_order_release);
      while (ball.load(std::memory_order_acquire) != next + 2) cpu_pause();
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    medians.push_back(std::chrono::duration<double, std::nano>(elapsed).count() /
                      static_cast<double>(trips));
  }
  partner.join();
  std::sort(medians.begin(), medians.end());
  return medians[medians.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int cpus[2] = {-1, -1};
  if (argc == 3) {
    cpus[0] = std::atoi(argv[1]);
    cpus[1] = std::atoi(argv[2]);
  } else {
    cpu_set_t allowed;
    sched_getaffinity(0, sizeof(allowed), &allowed);
    for (int c = 0, found = 0; c < CPU_SETSIZE && found < 2; ++c)
      if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  }
  if (cpus[0] < 0 || cpus[1] < 0) {
    std::fprintf(stderr, "core_round_trip: needs two CPUs\n");
    return 2;
  }
  std::printf("{\"cpus\": [%d, %d], \"round_trip_ns\": %.1f}\n", cpus[0], cpus[1],
              round_trip_ns(cpus[0], cpus[1], 20000, 15));
}
