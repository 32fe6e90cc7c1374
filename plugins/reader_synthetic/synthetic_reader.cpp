// The embedded default data set: a seeded, sparse classification or regression problem
// with a known generating model, of any size (n and d in the millions), made in memory
// in parallel without a text file.
//
// Each of the n rows stores k = max(1, round(density * d)) distinct features, chosen
// uniformly and stored ascending, with values N(0, 1) / sqrt(k) (so rows have norm
// about 1). A hidden model w* ~ N(0, I_d) gives the targets:
//   task=classification  label sign(a . w*) (ties -> +1), flipped with probability noise;
//   task=regression      target a . w* + noise * N(0, 1).
// `truth=FILE` writes w* as a localsgd model file, so `localsgd eval --model FILE` scores
// the generating model and a trained model can be compared with it.
//
// Every random number comes from Random123's Philox, a counter-based generator (the SDK's
// localsgd/random.hpp): row i uses key {seed, 0} and counters {i, block, 0, 0}, w* uses key
// {seed, 1}. So the data depends on the parameters only (not on how it is generated), and
// each row is produced on its own, in any order or thread (rows are generated in parallel).
// Within a row, draws happen in a fixed order: columns, values, then the flip, and the
// flip is drawn whatever `noise` is, so data sets that differ only in `noise` have the
// same features and differ only in flipped labels.
#include <localsgd/model_file.hpp>
#include <localsgd/random.hpp>
#include <localsgd/sdk.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

namespace {

using localsgd::ParamError;

constexpr std::uint64_t kRowStream = 0;    // second key word for the rows
constexpr std::uint64_t kModelStream = 1;  // second key word for w*

// The draws of one row (or of w*): the SDK's Philox stream with key {seed, stream},
// counters {id, block, 0, 0}, four 64-bit outputs per block.
class Draws {
 public:
  Draws(std::uint64_t seed, std::uint64_t stream, std::uint64_t id)
      : words_(seed, stream, {id, 0, 0, 0}, 1) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return localsgd::unit_interval(words_.next()); }

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
    const double u1 = localsgd::unit_interval_without_zero(words_.next());  // (0, 1]: log ok
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  localsgd::PhiloxStream words_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// `k` distinct columns of [0, d), uniformly, ascending, into `out`.
void choose_columns(Draws& rng, std::int64_t d, std::int64_t k, std::vector<std::int32_t>& out) {
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
  bool regression;
  std::string truth;  // file to write w* to, or ""
};

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
  const std::string task = params.text("task", "classification");
  if (task != "classification" && task != "regression")
    throw ParamError("parameter task=" + task + ": expected classification or regression");
  o.regression = task == "regression";
  o.noise = params.number("noise", o.regression ? 0.1 : 0.05);
  if (!o.regression && !(o.noise >= 0 && o.noise <= 0.5)) {
    throw ParamError("parameter noise=" + params.text("noise", "") +
                     ": must be in [0, 0.5] (a label flip probability)");
  }
  if (o.regression && !(o.noise >= 0))
    throw ParamError("parameter noise=" + params.text("noise", "") +
                     ": must be >= 0 (the standard deviation of the target noise)");
  o.truth = params.text("truth", "");
  o.seed = static_cast<std::uint64_t>(params.nonnegative_integer("seed", 1));
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
    if (!o.truth.empty()) write_truth(o, model);

    localsgd::Dataset data;
    data.cols = o.d;
    const auto n = static_cast<std::size_t>(o.n), entries = n * static_cast<std::size_t>(k);
    data.row_ptr.resize(n + 1);
    data.label.resize(n);
    data.index.resize(entries);
    data.value.resize(entries);

    // Every row has k entries, so row i lives at [i k, (i+1) k): rows are independent
    // (each has its own Philox counter) and are written in place in parallel.
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, o.n, 1024), [&](const auto& range) {
      std::vector<std::int32_t> columns;
      columns.reserve(static_cast<std::size_t>(k));
      for (std::int64_t i = range.begin(); i != range.end(); ++i) {
        Draws rng(o.seed, kRowStream, static_cast<std::uint64_t>(i));
        choose_columns(rng, o.d, k, columns);
        const auto first = static_cast<std::size_t>(i * k);
        double margin = 0;
        for (std::size_t e = 0; e < columns.size(); ++e) {
          const double value = rng.normal() * scale;
          data.index[first + e] = columns[e];
          data.value[first + e] = value;
          margin += value * model[static_cast<std::size_t>(columns[e])];
        }
        const double u = rng.uniform();  // drawn for both tasks: see the header comment
        double target;
        if (o.regression) {
          target = margin + o.noise * rng.normal();
        } else {
          target = margin >= 0 ? 1.0 : -1.0;
          if (u < o.noise) target = -target;
        }
        data.label[static_cast<std::size_t>(i)] = target;
        data.row_ptr[static_cast<std::size_t>(i) + 1] = (i + 1) * k;
      }
    });
    data.source = "synthetic(n=" + std::to_string(o.n) + ",d=" + std::to_string(o.d) +
                  ",density=" + localsgd::format_number(o.density) +
                  ",noise=" + localsgd::format_number(o.noise) + ",seed=" + std::to_string(o.seed) +
                  (o.regression ? ",task=regression)" : ")");
    return data;
  }

 private:
  static std::vector<double> true_model(const Options& o) {
    Draws rng(o.seed, kModelStream, 0);
    std::vector<double> model(static_cast<std::size_t>(o.d));
    for (double& w : model) w = rng.normal();
    return model;
  }

  // w* as a model file of the objective that fits the task, so that `localsgd eval
  // --model FILE` rebuilds it (with default parameters) on this data.
  // truth=FILE is an output: a file there that is not a localsgd model (a data set, a
  // config given by mistake) is refused, not replaced.
  static void refuse_to_replace_other_files(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return;  // nothing there (or unreadable: the writer reports it)
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.find("\"format\":\"localsgd-model\"") == std::string::npos)
      throw ParamError("parameter truth=" + path + ": " + path +
                       " exists and is not a localsgd model file; not replaced");
  }

  static void write_truth(const Options& o, const std::vector<double>& model) {
    refuse_to_replace_other_files(o.truth);
    localsgd::Model truth;
    truth.objective = o.regression ? "ridge" : "logreg";
    truth.cols = o.d;
    truth.coefficients = model;
    localsgd::write_model_file(o.truth, truth);
  }

  Options options_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"n", "10000", "number of rows (samples)"},
    {"d", "100", "number of features"},
    {"density", "0.1",
     "fraction of features stored per row, in (0, 1]: max(1, round(density*d)) per row"},
    {"task", "classification", "classification (labels +-1) or regression (real targets)"},
    {"noise", "0.05",
     "classification: probability of flipping each label, in [0, 0.5]; regression: standard "
     "deviation of the target noise (default 0.1)"},
    {"truth", "", "write the generating model w* to this model file"},
    {"seed", "1", "random seed (>= 0); the data depends only on these parameters"},
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<SyntheticReader>(
    "synthetic", "1.1.0",
    "seeded sparse classification or regression data with a known model; used without --data",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
