#include "localsgd/core/solve/evaluate.hpp"

#include <charconv>
#include <cmath>
#include <iostream>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugin_file.hpp"
#include "localsgd/core/plugins/plugins.hpp"

namespace localsgd::core {
namespace {

struct LoadedModel {
  Model model;
  Dataset data;
  std::unique_ptr<Objective> objective;
};

// The model's objective plugin: --plugin when given (it must be the model's objective),
// else the file the model was trained with while it still holds that objective (a plugin
// given by path is not in the search path), else the plugin of that name in the search
// path. A version other than the recorded one is a warning, not an error: the model's
// parameters decide whether the objective can be rebuilt.
const Manifest& objective_plugin(const EvalRequest& request, const Model& model) {
  const Manifest* manifest = nullptr;
  if (!request.plugin.empty()) {
    manifest = &load_plugin(request.plugin, PluginKind::objective);
    if (manifest->name != model.objective)
      throw UsageError("--plugin " + request.plugin + " is objective '" + manifest->name +
                       "', but " + request.model + " is a '" + model.objective + "' model");
  } else if (!model.plugin_path.empty()) {
    try {
      const Manifest& recorded = load_plugin(model.plugin_path, PluginKind::objective);
      if (recorded.name == model.objective) manifest = &recorded;
    } catch (const PluginError&) {  // moved, removed or rebuilt badly: look it up by name
    }
  }
  if (manifest == nullptr) {
    try {
      manifest = &load_plugin(model.objective, PluginKind::objective);
    } catch (const PluginError& e) {
      if (model.plugin_path.empty()) throw;
      throw PluginError(std::string(e.what()) + "; " + request.model + " was trained with " +
                        model.plugin_path +
                        ", which is gone or holds another objective: give it with --plugin");
    }
  }
  if (!model.plugin_version.empty() && manifest->version != nullptr &&
      model.plugin_version != manifest->version)
    std::cerr << "localsgd: warning: " << request.model << " was trained with " << model.objective
              << " " << model.plugin_version << "; evaluating with version " << manifest->version
              << " (" << plugin_file(*manifest).string() << ")\n";
  return *manifest;
}

// The label a binary prediction stands for: +1 above P = 1/2 or above a margin of 0, -1
// at or below (ties are -1, as in LIBLINEAR); other kinds are their own label or value.
double predicted_label(Objective::Prediction kind, double prediction) {
  switch (kind) {
    case Objective::Prediction::probability: return prediction > 0.5 ? 1.0 : -1.0;
    case Objective::Prediction::sign: return prediction > 0 ? 1.0 : -1.0;
    default: return prediction;
  }
}

// The model, the data trimmed or checked against the model's columns, and the objective
// rebuilt from the parameters the model records. Without `labels` (predict), the
// objective is rebuilt on no rows: the model's parameters carry what the data would (the
// classes, lambda), and labels the model does not know, such as a placeholder 0 in a file
// still to be labelled, are not refused. A plugin that cannot be built without rows is
// built on the data.
LoadedModel load(const EvalRequest& request, bool labels) {
  LoadedModel m;
  m.model = load_model(request.model);
  const Manifest& manifest = objective_plugin(request, m.model);
  m.data = load_dataset(request.data, request.reader, request.reader_params);
  if (m.data.cols > m.model.cols) {
    if (!request.allow_extra_features) {
      const std::string extra =
          m.data.cols == m.model.cols + 1
              ? std::to_string(m.model.cols + 1)
              : std::to_string(m.model.cols + 1) + ".." + std::to_string(m.data.cols);
      throw DataError(m.data.source, 0, 0,
                      "has " + std::to_string(m.data.cols) + " feature columns, the model " +
                          std::to_string(m.model.cols) + ": column(s) " + extra +
                          " (1-based) are unknown to it; pass --allow-extra-features to drop them");
    }
    drop_columns_from(m.data, m.model.cols);
  }
  if (!labels) {
    Dataset none;
    none.cols = m.data.cols;
    none.source = m.data.source;
    try {
      m.objective = build_objective(manifest, ParamMap(m.model.params), none, m.model.cols);
    } catch (...) {  // it needs rows: built on the data below
    }
  }
  if (!m.objective)
    m.objective = build_objective(manifest, ParamMap(m.model.params), m.data, m.model.cols);
  const auto expected = static_cast<std::size_t>(m.objective->dimension());
  if (expected != m.model.coefficients.size())
    throw DataError(request.model, 0, 0,
                    "model has " + std::to_string(m.model.coefficients.size()) +
                        " coefficients, but objective '" + m.model.objective +
                        "' with its recorded "
                        "parameters needs " +
                        std::to_string(expected));
  return m;
}

}  // namespace

Score score_predictions(const Objective& objective, const DataView& data,
                        std::span<const double> x) {
  Score score;
  const auto kind = objective.prediction_kind();
  double hits = 0.0, squared_error = 0.0;
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    const double prediction = objective.predict(data.row(i), x);
    const double y = data.label[static_cast<std::size_t>(i)];
    switch (kind) {
      case Objective::Prediction::probability:
      case Objective::Prediction::sign:
        hits += (predicted_label(kind, prediction) > 0) == (y > 0) ? 1.0 : 0.0;
        break;
      case Objective::Prediction::label: hits += prediction == y ? 1.0 : 0.0; break;
      case Objective::Prediction::value:
        squared_error += (prediction - y) * (prediction - y);
        break;
    }
  }
  const double n = static_cast<double>(data.rows());
  if (kind == Objective::Prediction::value)
    score.rmse = std::sqrt(squared_error / n);
  else
    score.accuracy = hits / n;
  return score;
}

nlohmann::ordered_json evaluate_model(const EvalRequest& request) {
  const LoadedModel m = load(request, true);
  const DataView data = m.data.view();
  const Score score = score_predictions(*m.objective, data, m.model.coefficients);
  nlohmann::ordered_json e;
  e["event"] = "eval";
  e["schema"] = 1;
  e["model"] = request.model;
  e["plugin"] = m.model.objective;
  e["data"] = m.data.source;
  e["rows"] = data.rows();
  e["cols"] = data.cols;
  e["dimension"] = m.model.coefficients.size();
  e["objective"] = evaluate_objective(*m.objective, data, m.model.coefficients);
  if (score.accuracy) e["accuracy"] = *score.accuracy;
  if (score.rmse) e["rmse"] = *score.rmse;
  return e;
}

void predict_model(const EvalRequest& request, OutputFormat format, std::ostream& out) {
  const LoadedModel m = load(request, false);
  const DataView data = m.data.view();
  const auto kind = m.objective->prediction_kind();
  // Only a probability adds a column to the label: a sign is the label itself.
  const bool binary = kind == Objective::Prediction::probability;
  const char* second = "probability";
  const char* first = kind == Objective::Prediction::value ? "value" : "label";
  const char separator = format == OutputFormat::csv ? ',' : ' ';
  if (format != OutputFormat::json) {
    out << first;
    if (binary) out << separator << second;
    out << '\n';
  }
  char buffer[32];
  // Shortest round-trip form, but whole numbers in full: a class 1000000 prints as it was
  // given, not as 1e+06.
  const auto number = [&](double v) {
    const bool whole = std::abs(v) < 1e15 && v == std::trunc(v);
    const auto end =
        whole ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(v))
              : std::to_chars(buffer, buffer + sizeof buffer, v);
    out.write(buffer, end.ptr - buffer);
  };
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    const double p = m.objective->predict(data.row(i), m.model.coefficients);
    const double label = predicted_label(kind, p);
    if (format == OutputFormat::json) {
      out << "{\"" << first << "\":";
      number(label);
      if (binary) out << ",\"" << second << "\":", number(p);
      out << "}\n";
    } else {
      number(label);
      if (binary) out.put(separator), number(p);
      out.put('\n');
    }
  }
  out.flush();
}

}  // namespace localsgd::core
