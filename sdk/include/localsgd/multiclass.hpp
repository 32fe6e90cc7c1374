// Helpers for multiclass objectives (softmax regression, neural nets): the class labels
// and the numerically stable softmax they share.
//
//   const auto classes = localsgd::ClassLabels::resolve(args.params, args.data, "softmax");
//   const std::size_t y = classes.index_of_row(data, i);   // DataError if not a class
//   loss += localsgd::cross_entropy_in_place(logits, y);   // logits -> probabilities
//
// A model file records `classes` (to_string()), so eval rebuilds the same class order
// on test data, which may lack some of the classes.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"
#include "localsgd/manifest.hpp"
#include "localsgd/params.hpp"

namespace localsgd {

// The `classes` parameter that ClassLabels::resolve reads, as `plugins info` shows it.
inline constexpr ParamDoc kClassesDoc{
    "classes", "from data",
    "comma-separated class labels, e.g. 1,2,3 (default: the sorted distinct integer labels)"};

class ClassLabels {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The `classes` parameter ("1,2,3", in this order) when given; otherwise the sorted
  // distinct labels of `data`, which must be integers (a regression target such as 2.5 is
  // far more likely a wrong file than a class). Either way every label of `data` must be
  // one of them, and there must be at least two. `objective` prefixes the messages.
  static ClassLabels resolve(const ParamMap& params, const DataView& data, const char* objective) {
    ClassLabels c;
    if (params.has("classes")) {
      c.labels_ = parse_list(params.text("classes", ""));
    } else {
      for (std::size_t i = 0; i < data.label.size(); ++i) {
        const double y = data.label[i];
        if (!(std::isfinite(y) && y == std::round(y)))
          throw DataError("", 0, 0,
                          std::string(objective) + " needs integer class labels; data row " +
                              std::to_string(i + 1) + " has label " + format_number(y) +
                              " (or list the classes with --param classes=...)");
        c.labels_.push_back(y);
      }
      std::sort(c.labels_.begin(), c.labels_.end());
      c.labels_.erase(std::unique(c.labels_.begin(), c.labels_.end()), c.labels_.end());
      if (c.labels_.size() < 2)
        throw DataError("", 0, 0,
                        std::string(objective) + " needs at least 2 classes; the data has " +
                            std::to_string(c.labels_.size()));
    }
    for (std::int64_t i = 0; i < data.rows(); ++i) c.index_of_row(data, i, objective);
    return c;
  }

  std::size_t size() const { return labels_.size(); }
  double label(std::size_t c) const { return labels_[c]; }

  // Position of label y in the class order, or npos. Linear: C is small, and computing
  // a row's C logits costs more anyway.
  std::size_t index_of(double y) const {
    for (std::size_t c = 0; c < labels_.size(); ++c)
      if (labels_[c] == y) return c;
    return npos;
  }

  // Class of row i; a DataError naming the row and its label when it is not a class.
  std::size_t index_of_row(const DataView& data, std::int64_t i,
                           const char* objective = "multiclass objective") const {
    const double y = data.label[static_cast<std::size_t>(i)];
    const std::size_t c = index_of(y);
    if (c == npos)
      throw DataError("", 0, 0,
                      std::string(objective) + ": data row " + std::to_string(i + 1) +
                          " has label " + format_number(y) + ", which is not one of the classes " +
                          to_string());
    return c;
  }

  // "1,2,3": the value of the `classes` parameter that rebuilds this order.
  std::string to_string() const {
    std::string out;
    for (std::size_t c = 0; c < labels_.size(); ++c)
      out += (c ? "," : "") + format_number(labels_[c]);
    return out;
  }

 private:
  static std::vector<double> parse_list(const std::string& text) {
    std::vector<double> labels;
    std::size_t begin = 0;
    while (true) {
      const std::size_t end = std::min(text.find(',', begin), text.size());
      double y = 0;
      const char* first = text.data() + begin;
      const char* last = text.data() + end;
      const auto [ptr, ec] = std::from_chars(first, last, y);
      if (first == last || ec != std::errc() || ptr != last || !std::isfinite(y))
        throw ParamError("parameter classes=" + text +
                         ": expected comma-separated class labels such as 1,2,3");
      if (std::find(labels.begin(), labels.end(), y) != labels.end())
        throw ParamError("parameter classes=" + text + ": label " + format_number(y) +
                         " is listed twice");
      labels.push_back(y);
      if (end == text.size()) break;
      begin = end + 1;
    }
    if (labels.size() < 2)
      throw ParamError("parameter classes=" + text + ": needs at least 2 classes");
    return labels;
  }

  std::vector<double> labels_;
};

// Turns logits z into probabilities softmax(z) in place and returns log(sum exp z).
// Subtracting the max first keeps every exp in (0, 1]: no overflow for huge logits, and
// the largest term is exactly 1, so the sum never underflows to 0.
inline double softmax_in_place(std::span<double> z) {
  double top = z[0];
  for (double v : z) top = std::max(top, v);
  double sum = 0.0;
  for (double& v : z) {
    v = std::exp(v - top);
    sum += v;
  }
  for (double& v : z) v /= sum;
  return top + std::log(sum);
}

// Turns logits z into probabilities in place and returns the cross-entropy -log p_y of
// class y: one row's loss in softmax regression and in a net with a softmax output.
inline double cross_entropy_in_place(std::span<double> z, std::size_t y) {
  const double logit_y = z[y];
  return softmax_in_place(z) - logit_y;
}

}  // namespace localsgd
