// LIBLINEAR's model format (what liblinear-train writes and liblinear-predict reads), to
// and from localsgd's model files, for the objectives the two share: logreg (L2R_LR),
// svm (L2R_L2LOSS_SVC), ridge (L2R_L2LOSS_SVR) and softmax (multiclass L2R_LR). The
// linear decision is the same on both sides: liblinear-predict on an exported model gives
// localsgd predict's labels (values, for ridge), and an imported model predicts as
// liblinear-predict did. Step-size or regularisation settings are not part of either
// format's predictions: an imported model's lambda is the objective's default.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "localsgd/core/io/model_io.hpp"

namespace localsgd::core {

// UsageError for an objective LIBLINEAR has no model for, DataError for a model whose
// coefficients do not fit its header.
void write_liblinear_model(std::ostream& out, const Model& model);

// DataError naming the file and line for anything that is not a LIBLINEAR model, or one
// whose labels localsgd's objectives cannot take (binary labels both positive, a
// multiclass model with a bias term).
Model read_liblinear_model(const std::filesystem::path& path);

}  // namespace localsgd::core
