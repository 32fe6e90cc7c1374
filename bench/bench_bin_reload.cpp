// Loading a data set from LIBSVM text vs from its binary cache (`localsgd data convert
// IN OUT.bin`), both through the reader plugins exactly as `--data` loads them
// (core::load_dataset). Two data sets: w8a (3.5 MB of text) and a generated ~100 MB file
// with real-valued features. Both files of a pair are in the page cache (warm reloads:
// the common case of a cache file that is read again and again).
//
// Both readers run on all cores and with TBB capped at one thread ("_1thread"). Each bin
// benchmark reports `x_vs_libsvm`: the mean libsvm parse time of the same data with the
// same number of threads (measured by the libsvm benchmarks, which run first) over its
// mean reload time. BM_HashFloor is what any checked reload pays at least on one thread:
// mapping the file and hashing every byte once (XXH3, as the bin reader does).
//
//   build/bin/bench_bin_reload --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <tbb/global_control.h>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/data/data_writers.hpp"
#include "localsgd/core/data/loading.hpp"

namespace {

namespace core = localsgd::core;
namespace fs = std::filesystem;

// A LIBSVM file of about `target_bytes`: 60 features per row on average out of 2,000,
// values with 6 significant digits (as real data sets write them), labels +-1.
void generate_libsvm(const fs::path& path, std::size_t target_bytes) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int> gap(1, 66);  // mean 33.5 -> ~60 of 2,000 columns
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  std::ofstream out(path, std::ios::binary);
  std::string line;
  char buffer[32];
  std::size_t written = 0;
  while (written < target_bytes) {
    line = rng() % 2 ? "1" : "-1";
    for (int col = gap(rng); col <= 2000; col += gap(rng)) {
      line += ' ';
      line.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, col).ptr);
      line += ':';
      line.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value(rng),
                                        std::chars_format::general, 6)
                              .ptr);
    }
    line += '\n';
    out << line;
    written += line.size();
  }
}

struct Files {
  fs::path dir;
  // name -> (libsvm path, bin path)
  std::map<std::string, std::pair<std::string, std::string>> sets;
};

Files* g_files = nullptr;  // set once made, for the clean-up in main

Files& files() {
  static Files* made = [] {
    auto* f = g_files = new Files;
    f->dir = fs::temp_directory_path() / ("localsgd_bench_bin_" + std::to_string(::getpid()));
    fs::create_directories(f->dir);
    const std::string w8a = std::string(LOCALSGD_DATA_DIR) + "/w8a";
    const std::string big = (f->dir / "generated.svm").string();
    generate_libsvm(big, std::size_t{100} << 20);
    for (const auto& [name, text] : {std::pair{"w8a", w8a}, std::pair{"generated", big}}) {
      const std::string bin = (f->dir / (std::string(name) + ".bin")).string();
      core::write_data_file(bin, core::load_dataset(text, "libsvm", {}), core::DataFormat::bin);
      f->sets[name] = {text, bin};
    }
    return f;
  }();
  return *made;
}

// Mean seconds per load of each (data set, reader), filled as benchmarks run.
std::map<std::pair<std::string, std::string>, double>& mean_seconds() {
  static std::map<std::pair<std::string, std::string>, double> m;
  return m;
}

// `reader` is "libsvm" or "bin", with "_1thread" when TBB is capped at one thread.
void BM_Load(benchmark::State& state, const std::string& set, const std::string& reader) {
  const bool single = reader.ends_with("_1thread");
  const std::string plugin = reader.starts_with("bin") ? "bin" : "libsvm";
  std::optional<tbb::global_control> one_thread;
  if (single) one_thread.emplace(tbb::global_control::max_allowed_parallelism, 1);
  std::string path;
  try {
    const auto& [text, bin] = files().sets.at(set);
    path = plugin == "bin" ? bin : text;
    core::load_dataset(path, plugin, {});  // warm-up: page cache, plugin loaded
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  double total = 0;
  std::int64_t nnz = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const localsgd::Dataset data = core::load_dataset(path, plugin, {});
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nnz = data.nnz();
    benchmark::DoNotOptimize(data.view().value.data());
  }
  const double mean = total / static_cast<double>(state.iterations());
  mean_seconds()[{set, reader}] = mean;
  const auto mb = static_cast<double>(fs::file_size(path)) / 1e6;
  state.counters["file_MB"] = mb;
  state.counters["nnz"] = static_cast<double>(nnz);
  state.counters["MB_per_s"] = mb / mean;
  if (plugin != "bin") return;
  const auto parse = mean_seconds().find({set, single ? "libsvm_1thread" : "libsvm"});
  if (parse != mean_seconds().end()) state.counters["x_vs_libsvm"] = parse->second / mean;
}

// The floor under a checked reload on one thread: mapping the cache and hashing each byte.
void BM_HashFloor(benchmark::State& state, const std::string& set) {
  const std::string& path = files().sets.at(set).second;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    state.SkipWithError("cannot open the cache");
    return;
  }
  const auto size = static_cast<std::size_t>(fs::file_size(path));
  for (auto _ : state) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      state.SkipWithError("cannot map the cache");
      break;
    }
    benchmark::DoNotOptimize(localsgd::core::binary::hash64(p, size));  // XXH3, as the reader
    ::munmap(p, size);
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const char* set : {"w8a", "generated"}) {
    for (const char* reader : {"libsvm", "libsvm_1thread", "bin", "bin_1thread"})
      benchmark::RegisterBenchmark((std::string("BM_Load/") + set + "/" + reader).c_str(), BM_Load,
                                   set, reader)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("BM_HashFloor/") + set).c_str(), BM_HashFloor, set)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ignored;
  if (g_files != nullptr) fs::remove_all(g_files->dir, ignored);
  return 0;
}
