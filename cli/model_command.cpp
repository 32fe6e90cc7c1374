// `localsgd model export MODEL --to liblinear` and `localsgd model import FILE --from
// liblinear --out MODEL`: models other tools read, and their models for eval, predict and
// --init (core/io/liblinear_model.hpp).
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/liblinear_model.hpp"
#include "localsgd/core/io/model_io.hpp"

namespace localsgd::cli {

void set_model_command(CLI::App& app) {
  CLI::App* model =
      app.add_subcommand("model", "Convert models to and from LIBLINEAR's model format");
  model->require_subcommand(1);

  struct ExportFlags {
    std::string model, to = "liblinear", out;
  };
  auto e = std::make_shared<ExportFlags>();
  CLI::App* out = model->add_subcommand(
      "export", "Write a logreg, svm, ridge or softmax model as a LIBLINEAR model");
  out->add_option("model", e->model, "localsgd model file (train --out, solve --out)")->required();
  out->add_option("--to", e->to, "the format")
      ->check(CLI::IsMember({"liblinear"}))
      ->capture_default_str();
  out->add_option("--out", e->out, "write to FILE (complete or not at all; default: stdout)");
  out->footer(
      "Example:\n  localsgd model export w8a.model --out w8a.liblinear\n"
      "  liblinear-predict w8a.t w8a.liblinear predictions.txt");
  out->callback([e] {
    const core::Model m = core::load_model(e->model);
    const auto write = [&](std::ostream& to) {
      try {
        core::write_liblinear_model(to, m);
      } catch (const DataError& error) {
        if (!error.file().empty()) throw;
        throw DataError(e->model, 0, 0, error.what());
      }
    };
    if (e->out.empty())
      write(std::cout);
    else
      core::write_file_atomically(e->out, write);
  });

  struct ImportFlags {
    std::string file, from = "liblinear", out;
  };
  auto i = std::make_shared<ImportFlags>();
  CLI::App* in = model->add_subcommand(
      "import", "Read a LIBLINEAR model into a localsgd model (logreg, svm, ridge, softmax)");
  in->add_option("file", i->file, "LIBLINEAR model file (liblinear-train's output)")->required();
  in->add_option("--from", i->from, "the format")
      ->check(CLI::IsMember({"liblinear"}))
      ->capture_default_str();
  in->add_option("--out", i->out, "the localsgd model file to write")->required();
  in->footer(
      "Example:\n  liblinear-train -s 0 a9a a9a.liblinear\n"
      "  localsgd model import a9a.liblinear --out a9a.model\n"
      "  localsgd eval --model a9a.model --data a9a.t");
  in->callback([i] { core::save_model(i->out, core::read_liblinear_model(i->file)); });
}

}  // namespace localsgd::cli
