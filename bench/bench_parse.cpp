// Parse throughput of the libsvm reader plugin, loaded as the CLI loads it: reads each
// file `--repeats` times (after one untimed warm-up read that also fills the page cache)
// and prints one JSON line per file with the median time and MB/s (10^6 bytes of file
// per second). bench/parse_peers.py runs it next to scikit-learn.
//
//   build/bin/bench_parse --threads 1 --repeats 7 ../shared/data/w8a /tmp/big.svm
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "localsgd/core/plugins/plugins.hpp"

namespace {

int usage() {
  std::cerr << "usage: bench_parse [--threads N] [--repeats R] [--reader-param k=v]... FILE...\n";
  return 2;
}

double seconds_to_read(const localsgd::Reader& reader, const std::string& path,
                       localsgd::Dataset& out) {
  const auto start = std::chrono::steady_clock::now();
  out = reader.read({path});
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, repeats = 5;
  localsgd::ParamMap params;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--reader-param" && i + 1 < argc) {
      localsgd::core::add_key_value(params, "--reader-param", argv[++i]);
    } else if (!arg.empty() && arg[0] == '-') {
      return usage();
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) return usage();

  try {
    std::optional<tbb::global_control> cap;
    if (threads > 0) cap.emplace(tbb::global_control::max_allowed_parallelism, threads);
    const auto& manifest = localsgd::core::load_plugin("libsvm", localsgd::PluginKind::reader);
    const auto reader = localsgd::core::make_reader(manifest, params);
    for (const std::string& file : files) {
      localsgd::Dataset data;
      seconds_to_read(*reader, file, data);  // warm-up
      std::vector<double> times;
      for (int r = 0; r < repeats; ++r) times.push_back(seconds_to_read(*reader, file, data));
      std::sort(times.begin(), times.end());
      const double median = times.size() % 2
                                ? times[times.size() / 2]
                                : (times[times.size() / 2 - 1] + times[times.size() / 2]) / 2;
      const auto bytes = std::filesystem::file_size(file);
      std::cout << "{\"file\": \"" << file << "\", \"bytes\": " << bytes
                << ", \"threads\": " << threads << ", \"repeats\": " << repeats
                << ", \"median_s\": " << median << ", \"min_s\": " << times.front()
                << ", \"mb_per_s\": " << static_cast<double>(bytes) / median / 1e6
                << ", \"rows\": " << data.rows() << ", \"nnz\": " << data.nnz() << "}\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_parse: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
