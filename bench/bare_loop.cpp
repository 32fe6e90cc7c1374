// The bare SGD loop (bare_loop.hpp) on any LIBSVM file, for bench/peers.py: prints one
// JSON line with the samples per second of the loop alone (loading not timed).
//
//   build/bin/bare_loop FILE BATCH EPOCHS [ETA]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "bare_loop.hpp"
#include "localsgd/core/data/loading.hpp"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: bare_loop FILE BATCH EPOCHS [ETA]\n");
    return 2;
  }
  try {
    const localsgd::Dataset data = localsgd::core::load_dataset(argv[1], "", {});
    const std::int64_t batch = std::stoll(argv[2]);
    const double epochs = std::stod(argv[3]);
    const double eta = argc == 5 ? std::stod(argv[4]) : 0.5;
    const auto steps = static_cast<std::int64_t>(epochs * static_cast<double>(data.rows()) /
                                                 static_cast<double>(batch));
    const auto start = std::chrono::steady_clock::now();
    const auto x = localsgd::bench::bare_sgd(data.view(), batch, steps, eta);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double norm2 = 0;
    for (double v : x) norm2 += v * v;  // keeps the loop's result alive
    std::printf("{\"samples\":%lld,\"seconds\":%.9g,\"samples_per_second\":%.9g,\"norm2\":%.17g}\n",
                static_cast<long long>(steps * batch), seconds,
                static_cast<double>(steps * batch) / seconds, norm2);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bare_loop: %s\n", e.what());
    return 1;
  }
}
