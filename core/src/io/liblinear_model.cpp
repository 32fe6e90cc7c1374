#include "localsgd/core/io/liblinear_model.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/input_file.hpp"
#include "localsgd/params.hpp"

namespace localsgd::core {
namespace {

bool has_bias(const Model& model) {
  const auto it = model.params.find("bias");
  return it != model.params.end() && it->second == "true";
}

// "1,2,3" -> {"1", "2", "3"}
std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, separator);) parts.push_back(item);
  return parts;
}

}  // namespace

void write_liblinear_model(std::ostream& out, const Model& model) {
  const std::string& name = model.objective;
  const auto size = static_cast<std::int64_t>(model.coefficients.size());
  const auto mismatch = [&](std::int64_t expected) {
    if (size != expected)
      throw DataError("", 0, 0,
                      "a '" + name + "' model with " + std::to_string(model.cols) + " columns" +
                          " should have " + std::to_string(expected) + " coefficients, it has " +
                          std::to_string(size));
  };
  if (name == "logreg" || name == "svm" || name == "ridge") {
    const bool bias = has_bias(model);
    mismatch(model.cols + (bias ? 1 : 0));
    out << "solver_type "
        << (name == "logreg" ? "L2R_LR"
            : name == "svm"  ? "L2R_L2LOSS_SVC"
                             : "L2R_L2LOSS_SVR")
        << "\nnr_class 2\n";
    // liblinear-predict answers label[0] when w.x > 0: +1, as our P(y = +1) > 1/2.
    if (name != "ridge") out << "label 1 -1\n";
    out << "nr_feature " << model.cols << "\nbias " << (bias ? "1" : "-1") << "\nw\n";
    for (double w : model.coefficients) out << format_number(w) << " \n";
    return;
  }
  if (name == "softmax") {
    const auto it = model.params.find("classes");
    if (it == model.params.end())
      throw DataError("", 0, 0, "a softmax model without its 'classes' parameter");
    const std::vector<std::string> classes = split(it->second, ',');
    for (const std::string& c : classes) {
      int label = 0;
      const auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), label);
      if (ec != std::errc() || end != c.data() + c.size())
        throw UsageError("LIBLINEAR's labels are integers; this softmax model's class '" + c +
                         "' is not");
    }
    const auto C = static_cast<std::int64_t>(classes.size());
    mismatch(C * model.cols);
    out << "solver_type L2R_LR\nnr_class " << C << "\nlabel";
    for (const std::string& c : classes) out << ' ' << c;
    out << "\nnr_feature " << model.cols << "\nbias -1\nw\n";
    // LIBLINEAR: feature-major, w[j * C + c]; ours: class-major, x[c * cols + j].
    for (std::int64_t j = 0; j < model.cols; ++j) {
      for (std::int64_t c = 0; c < C; ++c)
        out << format_number(model.coefficients[static_cast<std::size_t>(c * model.cols + j)])
            << ' ';
      out << '\n';
    }
    return;
  }
  throw UsageError("LIBLINEAR has no model for objective '" + name +
                   "' (export supports logreg, svm, ridge and softmax)");
}

Model read_liblinear_model(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (const auto problem = input_file_problem(path, 1u << 30))
    throw DataError(file, 0, 0, *problem + ", expected a LIBLINEAR model file");
  std::ifstream in(path);
  if (!in) throw DataError(file, 0, 0, "cannot open the LIBLINEAR model file");
  std::string solver;
  std::vector<int> labels;
  std::int64_t nr_class = 0, nr_feature = -1, line_number = 0;
  double bias = -1;
  bool weights = false;
  std::string line;
  while (!weights && std::getline(in, line)) {
    ++line_number;
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    const auto bad = [&](const std::string& what) {
      return DataError(file, line_number, 1, what + " in '" + line + "'");
    };
    if (key == "solver_type") {
      if (!(fields >> solver)) throw bad("no solver type");
    } else if (key == "nr_class") {
      if (!(fields >> nr_class) || nr_class < 2 || nr_class > 1'000'000) throw bad("bad nr_class");
    } else if (key == "label") {
      for (int l = 0; fields >> l;) labels.push_back(l);
    } else if (key == "nr_feature") {
      if (!(fields >> nr_feature) || nr_feature < 0 || nr_feature > (std::int64_t{1} << 31))
        throw bad("bad nr_feature");
    } else if (key == "bias") {
      if (!(fields >> bias) || !std::isfinite(bias)) throw bad("bad bias");
    } else if (key == "rho") {
      throw bad("one-class models have no localsgd objective");
    } else if (key == "w") {
      weights = true;
    } else {
      throw DataError(file, line_number, 1,
                      line_number == 1 ? "not a LIBLINEAR model file (no solver_type line)"
                                       : "unknown header line '" + line + "'");
    }
  }
  if (!weights || solver.empty() || nr_class == 0 || nr_feature < 0)
    throw DataError(file, line_number, 0,
                    "not a complete LIBLINEAR model header (solver_type, nr_class, nr_feature, "
                    "bias, w)");
  const bool regression = solver.find("SVR") != std::string::npos;
  const bool logistic = solver.find("LR") != std::string::npos;
  if (!regression && static_cast<std::int64_t>(labels.size()) != nr_class)
    throw DataError(file, 0, 0,
                    "nr_class is " + std::to_string(nr_class) + " but " +
                        std::to_string(labels.size()) + " labels are listed");
  const bool binary = nr_class == 2 && solver != "MCSVM_CS";
  const std::int64_t rows = nr_feature + (bias >= 0 ? 1 : 0);
  const std::int64_t per_row = binary || regression ? 1 : nr_class;
  std::vector<double> w;
  w.reserve(static_cast<std::size_t>(std::min<std::int64_t>(rows * per_row, 1 << 24)));
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream tokens(line);
    for (std::string token; tokens >> token;) {
      double v = 0;
      const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
      if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(v))
        throw DataError(file, line_number, static_cast<std::int64_t>(line.find(token)) + 1,
                        "expected a finite weight, got '" + token + "'");
      w.push_back(v);
    }
  }
  if (static_cast<std::int64_t>(w.size()) != rows * per_row)
    throw DataError(file, 0, 0,
                    "the header asks for " + std::to_string(rows * per_row) +
                        " weights, the file has " + std::to_string(w.size()));

  Model model;
  model.cols = nr_feature;
  if (binary || regression) {
    model.objective = regression ? "ridge" : logistic ? "logreg" : "svm";
    model.params["bias"] = bias >= 0 ? "true" : "false";
    double sign = 1;
    if (!regression) {  // our objectives say +1 for a positive margin
      if (labels[0] > 0 && labels[1] <= 0)
        sign = 1;
      else if (labels[0] <= 0 && labels[1] > 0)
        sign = -1;
      else
        throw DataError(file, 0, 0,
                        "labels " + std::to_string(labels[0]) + " and " +
                            std::to_string(labels[1]) +
                            ": localsgd's binary objectives need one positive and one not");
    }
    for (std::int64_t j = 0; j < rows; ++j) {
      double v = sign * w[static_cast<std::size_t>(j)];
      if (j == nr_feature) v *= bias;  // LIBLINEAR's bias feature is `bias`, ours is 1
      model.coefficients.push_back(v);
    }
    return model;
  }
  if (bias >= 0)
    throw DataError(file, 0, 0,
                    "a multiclass model with a bias term (liblinear-train -B): localsgd's "
                    "softmax has no intercept");
  model.objective = "softmax";
  std::string classes;
  for (int l : labels) classes += (classes.empty() ? "" : ",") + std::to_string(l);
  model.params["classes"] = classes;
  model.coefficients.assign(static_cast<std::size_t>(nr_class * nr_feature), 0.0);
  for (std::int64_t j = 0; j < nr_feature; ++j)
    for (std::int64_t c = 0; c < nr_class; ++c)
      model.coefficients[static_cast<std::size_t>(c * nr_feature + j)] =
          w[static_cast<std::size_t>(j * nr_class + c)];
  return model;
}

}  // namespace localsgd::core
