// The embedded default data set: a seeded, sparse, binary classification problem.
//
// Each of the n rows stores k = max(1, round(density * d)) distinct features, chosen
// uniformly and stored ascending, with values N(0, 1) / sqrt(k) (so rows have norm
// about 1). A hidden model w* ~ N(0, I_d) labels each row sign(a . w*) (ties -> +1), and
// each label is then flipped with probability `noise`.
//
// Every random number comes from Random123's Philox, a counter-based generator: row i
// uses key {seed, 0} and counters {i, block, 0, 0}, w* uses key {seed, 1}. So the data
// depends on the parameters only (not on how it is generated), and row i could be
// produced on its own, in any order or thread, should generation ever be parallelised.
// Within a row, draws happen in a fixed order: columns, values, then the flip, and the
// flip is drawn whatever `noise` is, so data sets that differ only in `noise` have the
// same features and differ only in flipped labels.
#include <localsgd/sdk.hpp>

#include <Random123/philox.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

namespace {

using localsgd::ParamError;

constexpr std::uint64_t kRowStream = 0;    // second key word for the rows
constexpr std::uint64_t kModelStream = 1;  // second key word for w*

// A stream of random numbers from Philox4x64 with a fixed key and first counter word,
// walking the second counter word: four 64-bit outputs per block.
class PhiloxStream {
 public:
  PhiloxStream(std::uint64_t seed, std::uint64_t stream, std::uint64_t id)
      : key_{{seed, stream}}, counter_{{id, 0, 0, 0}} {}

  std::uint64_t next() {
    if (used_ == 4) {
      block_ = philox_(counter_, key_);
      ++counter_.v[1];
      used_ = 0;
    }
    return block_.v[used_++];
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, bound); bound < 2^53, so the bias is negligible.
  std::int64_t below(std::int64_t bound) {
    const auto value = static_cast<std::int64_t>(uniform() * static_cast<double>(bound));
    return std::min(value, bound - 1);  // guards the rounding of u * bound up to bound
  }

  // Standard normal by Box-Muller, which uses exactly two uniforms per pair of normals.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = static_cast<double>((next() >> 11) + 1) * 0x1.0p-53;  // (0, 1]: log ok
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  r123::Philox4x64 philox_;
  r123::Philox4x64::key_type key_;
  r123::Philox4x64::ctr_type counter_;
  r123::Philox4x64::ctr_type block_{};
  int used_ = 4;
  double spare_ = 0;
  bool has_spare_ = false;
};

// `k` distinct columns of [0, d), uniformly, ascending, into `out`.
void choose_columns(PhiloxStream& rng, std::int64_t d, std::int64_t k,
                    std::vector<std::int32_t>& out) {
  out.clear();
  if (2 * k <= d) {
    // Sparse rows: draw, deduplicate, redraw the shortfall. The distinct values of i.i.d.
    // uniform draws form a uniform k-subset, and at most half the columns are taken, so
    // each round at least halves the shortfall on average: O(k log k) per row.
    while (static_cast<std::int64_t>(out.size()) < k) {
      for (auto missing = k - static_cast<std::int64_t>(out.size()); missing > 0; --missing) {
        out.push_back(static_cast<std::int32_t>(rng.below(d)));
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    }
  } else {
    // Dense rows: selection sampling (Knuth's Algorithm S), one pass over the columns,
    // which costs O(d) = O(k) here and yields them already sorted.
    std::int64_t wanted = k;
    for (std::int64_t j = 0; j < d && wanted > 0; ++j) {
      if (rng.uniform() * static_cast<double>(d - j) < static_cast<double>(wanted)) {
        out.push_back(static_cast<std::int32_t>(j));
        --wanted;
      }
    }
  }
}

struct Options {
  std::int64_t n;
  std::int64_t d;
  double density;
  double noise;
  std::uint64_t seed;
};

std::string format_number(double x) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, x);  // shortest round trip
  return std::string(text, result.ptr);
}

Options parse_options(const localsgd::ParamMap& params) {
  Options o{};
  o.n = params.positive_integer("n", 10000);
  o.d = params.positive_integer("d", 100);
  if (o.d > std::numeric_limits<std::int32_t>::max()) {
    throw ParamError("parameter d=" + params.text("d", "") + ": must be <= 2147483647");
  }
  o.density = params.number("density", 0.1);
  if (!(o.density > 0 && o.density <= 1)) {
    throw ParamError("parameter density=" + params.text("density", "") + ": must be in (0, 1]");
  }
  o.noise = params.number("noise", 0.05);
  if (!(o.noise >= 0 && o.noise <= 0.5)) {
    throw ParamError("parameter noise=" + params.text("noise", "") + ": must be in [0, 0.5]");
  }
  const std::int64_t seed = params.integer("seed", 1);
  if (seed < 0) throw ParamError("parameter seed=" + params.text("seed", "") + ": must be >= 0");
  o.seed = static_cast<std::uint64_t>(seed);
  return o;
}

std::int64_t features_per_row(const Options& o) {
  return std::max<std::int64_t>(1, std::llround(o.density * static_cast<double>(o.d)));
}

class SyntheticReader final : public localsgd::Reader {
 public:
  explicit SyntheticReader(const localsgd::ParamMap& params) : options_(parse_options(params)) {
    if (options_.n > std::numeric_limits<std::int64_t>::max() / features_per_row(options_)) {
      throw ParamError("parameters n and density: too many stored entries");
    }
  }

  // The path is ignored: this reader is what runs when there is no --data.
  localsgd::Dataset read(const localsgd::ReadRequest& /*request*/) const override {
    const Options& o = options_;
    const std::int64_t k = features_per_row(o);
    const double scale = 1.0 / std::sqrt(static_cast<double>(k));
    const std::vector<double> model = true_model(o);

    localsgd::Dataset data;
    data.cols = o.d;
    data.row_ptr.reserve(static_cast<std::size_t>(o.n) + 1);
    data.label.reserve(static_cast<std::size_t>(o.n));
    data.index.reserve(static_cast<std::size_t>(o.n * k));
    data.value.reserve(static_cast<std::size_t>(o.n * k));

    std::vector<std::int32_t> columns;
    columns.reserve(static_cast<std::size_t>(k));
    for (std::int64_t i = 0; i < o.n; ++i) {
      PhiloxStream rng(o.seed, kRowStream, static_cast<std::uint64_t>(i));
      choose_columns(rng, o.d, k, columns);
      double margin = 0;
      for (const std::int32_t j : columns) {
        const double value = rng.normal() * scale;
        data.index.push_back(j);
        data.value.push_back(value);
        margin += value * model[static_cast<std::size_t>(j)];
      }
      double label = margin >= 0 ? 1.0 : -1.0;
      if (rng.uniform() < o.noise) label = -label;
      data.label.push_back(label);
      data.row_ptr.push_back(static_cast<std::int64_t>(data.index.size()));
    }
    data.source = "synthetic(n=" + std::to_string(o.n) + ",d=" + std::to_string(o.d) +
                  ",density=" + format_number(o.density) + ",noise=" + format_number(o.noise) +
                  ",seed=" + std::to_string(o.seed) + ")";
    return data;
  }

 private:
  static std::vector<double> true_model(const Options& o) {
    PhiloxStream rng(o.seed, kModelStream, 0);
    std::vector<double> model(static_cast<std::size_t>(o.d));
    for (double& w : model) w = rng.normal();
    return model;
  }

  Options options_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"n", "10000", "number of rows (samples)"},
    {"d", "100", "number of features"},
    {"density", "0.1",
     "fraction of features stored per row, in (0, 1]: max(1, round(density*d)) per row"},
    {"noise", "0.05", "probability of flipping each label, in [0, 0.5]"},
    {"seed", "1", "random seed (>= 0); the data depends only on these parameters"},
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<SyntheticReader>(
    "synthetic", "1.0.0",
    "seeded sparse binary classification data (labels sign(a.w*) with flips), used without "
    "--data",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
