// Scoring a saved model on a data set: `localsgd eval` and `localsgd predict`.
#pragma once

#include <optional>
#include <ostream>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "localsgd/core/io/report.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct EvalRequest {
  std::string model;  // model file written by train --out or solve --out
  // The objective plugin (name or path); "" = the one the model records (README "f*,
  // solve, eval and predict": its file if it still holds that objective, else by name).
  std::string plugin;
  std::string data;    // data file
  std::string reader;  // "" = libsvm
  ParamMap reader_params;
  // A data set with more columns than the model is an error naming them, unless this
  // drops the extra columns. Fewer columns is fine (missing features are zeros).
  bool allow_extra_features = false;
};

// Accuracy (classifiers) or RMSE (regression) of the predictions of x on `data`.
struct Score {
  std::optional<double> accuracy;
  std::optional<double> rmse;
};
Score score_predictions(const Objective& objective, const DataView& data,
                        std::span<const double> x);

// The `eval` event: objective (f at the model on this data), accuracy (classification)
// or rmse (regression), rows, plus the model's objective name and dimension.
nlohmann::ordered_json evaluate_model(const EvalRequest& request);

// One prediction per row of the data, in its order, as a table (a header line, then
// space-separated columns), CSV (a header line) or JSON lines. The columns follow the
// objective's prediction kind: `label probability` (binary classifiers with
// probabilities: the label is 1 or -1, the probability is P(y = +1)), `label` (a sign, 1
// or -1, or a class), `value` (regression).
void predict_model(const EvalRequest& request, OutputFormat format, std::ostream& out);

}  // namespace localsgd::core
