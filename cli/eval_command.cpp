// `localsgd eval` (objective, accuracy or RMSE of a saved model) and `localsgd predict`
// (one prediction per line).
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/solve/evaluate.hpp"

namespace localsgd::cli {
namespace {

struct EvalFlags {
  core::EvalRequest request;
  std::vector<std::string> reader_params;
  OutputFlags output;
};

void add_model_and_data(CLI::App* command, EvalFlags& flags) {
  command->add_option("--model", flags.request.model, "model file (train --out, solve --out)")
      ->required();
  command->add_option("--data", flags.request.data, "data file")->required();
  command->add_option("--reader", flags.request.reader, "reader plugin (default: libsvm)");
  command->add_option("--reader-param", flags.reader_params, "reader parameter key=value");
  command->add_flag("--allow-extra-features", flags.request.allow_extra_features,
                    "drop data columns the model does not know instead of failing");
}

}  // namespace

void set_eval_commands(CLI::App& app) {
  auto eval_flags = std::make_shared<EvalFlags>();
  CLI::App* eval = app.add_subcommand("eval", "Score a saved model on a data set");
  add_model_and_data(eval, *eval_flags);
  add_format_option(eval, eval_flags->output);
  eval->callback([eval_flags] {
    const core::OutputFormat format = core::parse_output_format(eval_flags->output.format);
    eval_flags->request.reader_params = collect_params("--reader-param", eval_flags->reader_params);
    core::print_event(std::cout, format, core::evaluate_model(eval_flags->request));
  });

  auto predict_flags = std::make_shared<EvalFlags>();
  CLI::App* predict =
      app.add_subcommand("predict", "One prediction per row: P(+1), class label or value");
  add_model_and_data(predict, *predict_flags);
  predict->callback([predict_flags] {
    predict_flags->request.reader_params =
        collect_params("--reader-param", predict_flags->reader_params);
    core::predict_model(predict_flags->request, std::cout);
  });
}

}  // namespace localsgd::cli
