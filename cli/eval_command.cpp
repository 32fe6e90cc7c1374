// `localsgd eval` (objective, accuracy or RMSE of a saved model) and `localsgd predict`
// (one prediction per row, as a table, CSV or JSON lines).
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/solve/evaluate.hpp"

namespace localsgd::cli {
namespace {

struct EvalFlags {
  core::EvalRequest request;
  std::vector<std::string> reader_params;
  OutputFlags output;
  std::string out;  // predict --out
};

void add_model_and_data(CLI::App* command, EvalFlags& flags) {
  command->add_option("--model", flags.request.model, "model file (train --out, solve --out)")
      ->required();
  command->add_option("--data", flags.request.data, "data file")->required();
  command->add_option("--plugin", flags.request.plugin,
                      "objective plugin, name or path (default: the one the model records)");
  command->add_option("--reader", flags.request.reader, "reader plugin (default: libsvm)");
  command->add_option("--reader-param", flags.reader_params, "reader parameter key=value");
  command->add_flag("--allow-extra-features", flags.request.allow_extra_features,
                    "drop data columns the model does not know instead of failing");
}

}  // namespace

void set_eval_commands(CLI::App& app) {
  auto eval_flags = std::make_shared<EvalFlags>();
  CLI::App* eval = app.add_subcommand("eval", "Score a saved model on a data set");
  eval->footer("Example:\n  localsgd eval --model w8a.model --data w8a.t --format json");
  add_model_and_data(eval, *eval_flags);
  add_format_option(eval, eval_flags->output);
  eval->callback([eval_flags] {
    const core::OutputFormat format = core::parse_output_format(eval_flags->output.format);
    eval_flags->request.reader_params = collect_params("--reader-param", eval_flags->reader_params);
    core::print_event(std::cout, format, core::evaluate_model(eval_flags->request));
  });

  auto predict_flags = std::make_shared<EvalFlags>();
  CLI::App* predict = app.add_subcommand(
      "predict", "One prediction per row: label (and P(+1) for logreg) or value");
  add_model_and_data(predict, *predict_flags);
  predict->footer(
      "Examples:\n"
      "  localsgd predict --model w8a.model --data w8a.t             # label probability\n"
      "  localsgd predict --model w8a.model --data w8a.t --format csv --out p.csv");
  add_format_option(predict, predict_flags->output);
  predict->add_option("--out", predict_flags->out,
                      "write the predictions to FILE (complete or not at all) instead of stdout");
  predict->callback([predict_flags] {
    const core::OutputFormat format = core::parse_output_format(predict_flags->output.format);
    predict_flags->request.reader_params =
        collect_params("--reader-param", predict_flags->reader_params);
    refuse_shared_files(
        {{"--out", predict_flags->out}},
        {{"--data", predict_flags->request.data}, {"--model", predict_flags->request.model}});
    if (predict_flags->out.empty()) {
      core::predict_model(predict_flags->request, format, std::cout);
    } else {
      core::write_file_atomically(predict_flags->out, [&](std::ostream& out) {
        core::predict_model(predict_flags->request, format, out);
      });
    }
  });
}

}  // namespace localsgd::cli
