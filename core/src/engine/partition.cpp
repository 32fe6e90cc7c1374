#include "localsgd/core/engine/partition.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "localsgd/core/engine/rng.hpp"
#include "localsgd/core/errors.hpp"
#include "plugins/param_keys.hpp"

namespace localsgd::core {
namespace {

// Partitions draw from a Philox stream of their own, never shared with the workers'
// sample streams.
constexpr std::uint64_t kPartitionStream = 0x7061727469746e21ull;

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), std::int64_t{0});
  return rows;
}

// Splits `rows` into K consecutive parts of sizes floor((k+1)m/K) - floor(km/K).
void split_evenly(const std::vector<std::int64_t>& rows,
                  std::vector<std::vector<std::int64_t>>& parts) {
  const auto K = parts.size();
  const auto m = rows.size();
  for (std::size_t k = 0; k < K; ++k) {
    const std::size_t begin = k * m / K, end = (k + 1) * m / K;
    parts[k].insert(parts[k].end(), rows.begin() + static_cast<std::ptrdiff_t>(begin),
                    rows.begin() + static_cast<std::ptrdiff_t>(end));
  }
}

// Shuffles one label's rows and deals them out in Dirichlet(alpha)-distributed shares.
void deal_by_dirichlet(std::vector<std::int64_t>& rows, double alpha, RandomStream& rng,
                       std::vector<std::vector<std::int64_t>>& parts) {
  const std::size_t K = parts.size();
  rng.shuffle(rows);
  std::vector<double> share(K);
  double total = 0;
  for (double& s : share) total += s = rng.gamma(alpha);
  double cumulative = 0;
  std::size_t begin = 0;
  for (std::size_t k = 0; k < K; ++k) {
    cumulative += share[k] / total;
    const auto cut =
        static_cast<std::size_t>(std::llround(cumulative * static_cast<double>(rows.size())));
    const std::size_t end = k + 1 == K ? rows.size() : std::clamp(cut, begin, rows.size());
    parts[k].insert(parts[k].end(), rows.begin() + static_cast<std::ptrdiff_t>(begin),
                    rows.begin() + static_cast<std::ptrdiff_t>(end));
    begin = end;
  }
}

void reject_unknown_keys(const std::string& name, const ParamMap& params,
                         const std::vector<std::string>& known) {
  if (const auto key = first_unknown_key(params, known))
    throw UsageError("--partition-param " + *key + ": not a parameter of partition '" + name + "'" +
                     (known.empty() ? " (it has none)" : " (known: " + join_names(known) + ")"));
}

}  // namespace

std::vector<std::string> partition_names() {
  return {"shared", "shard", "contiguous", "label-skew"};
}

Partition make_partition(const std::string& name, const ParamMap& params, const DataView& data,
                         std::int64_t workers, std::uint64_t seed) {
  const std::int64_t n = data.rows();
  const auto K = static_cast<std::size_t>(workers);
  Partition p;
  p.description = name;
  if (name == "shared") {
    reject_unknown_keys(name, params, {});
    return p;
  }
  p.rows.resize(K);
  if (name == "contiguous") {
    reject_unknown_keys(name, params, {});
    split_evenly(all_rows(n), p.rows);
  } else if (name == "shard") {
    reject_unknown_keys(name, params, {});
    std::vector<std::int64_t> rows = all_rows(n);
    RandomStream rng(seed, kPartitionStream, 0);
    rng.shuffle(rows);
    split_evenly(rows, p.rows);
  } else if (name == "label-skew") {
    reject_unknown_keys(name, params, {"alpha"});
    double alpha = 0;
    try {
      alpha = params.positive_number("alpha", 0.5);
    } catch (const ParamError& e) {
      throw UsageError(std::string("--partition-param ") + e.what());
    }
    p.description = "label-skew(alpha=" + format_number(alpha) + ")";
    std::map<double, std::vector<std::int64_t>> by_label;  // ordered: labels in value order
    for (std::int64_t i = 0; i < n; ++i)
      by_label[data.label[static_cast<std::size_t>(i)]].push_back(i);
    // As common Dirichlet partitioners do, redraw (from the same stream, so still a
    // function of the seed) while some worker is left without rows.
    RandomStream rng(seed, kPartitionStream, 0);
    for (int attempt = 0; attempt < 100; ++attempt) {
      for (auto& part : p.rows) part.clear();
      for (auto& [label, rows] : by_label) deal_by_dirichlet(rows, alpha, rng, p.rows);
      if (std::none_of(p.rows.begin(), p.rows.end(), [](const auto& r) { return r.empty(); }))
        break;
    }
  } else {
    throw UsageError("unknown partition '" + name +
                     "'; available: " + join_names(partition_names()));
  }
  for (std::size_t k = 0; k < K; ++k) {
    std::sort(p.rows[k].begin(), p.rows[k].end());
    if (p.rows[k].empty())
      throw UsageError("partition " + p.description + " leaves worker " + std::to_string(k) +
                       " without rows (" + std::to_string(n) + " rows, " + std::to_string(K) +
                       " workers); use fewer workers" +
                       (name == "label-skew" ? " or a larger alpha" : ""));
  }
  return p;
}

}  // namespace localsgd::core
