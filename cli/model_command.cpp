// `localsgd model export MODEL --to liblinear` and `localsgd model import FILE --from
// liblinear --out MODEL`: models other tools read, and their models for eval, predict and
// --init (core/io/liblinear_model.hpp).
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/liblinear_model.hpp"
#include "localsgd/core/io/model_io.hpp"

namespace localsgd::cli {

void set_model_command(CLI::App& app) {
  CLI::App* model =
      app.add_subcommand("model", "Convert models to and from LIBLINEAR's model format");
  model->require_subcommand(1);

  // Both directions: the file read, the other side's format, the file written.
  struct Conversion {
    std::string in, format = "liblinear", out;
  };
  const auto add_format = [](CLI::App* command, const std::string& flag, std::string& format) {
    command->add_option(flag, format, "the format")
        ->check(CLI::IsMember({"liblinear"}))
        ->capture_default_str();
  };
  auto e = std::make_shared<Conversion>();
  CLI::App* out = model->add_subcommand(
      "export", "Write a logreg, svm, ridge or softmax model as a LIBLINEAR model");
  out->add_option("model", e->in, "localsgd model file (train --out, solve --out)")->required();
  add_format(out, "--to", e->format);
  out->add_option("--out", e->out, "write to FILE (complete or not at all; default: stdout)");
  out->footer(
      "Example:\n  localsgd model export w8a.model --out w8a.liblinear\n"
      "  liblinear-predict w8a.t w8a.liblinear predictions.txt");
  out->callback([e] {
    refuse_shared_files({{"--out", e->out}}, {{"the model", e->in}});
    const core::Model m = core::load_model(e->in);
    const auto write = [&](std::ostream& to) {
      try {
        core::write_liblinear_model(to, m);
      } catch (const DataError& error) {
        if (!error.file().empty()) throw;
        throw DataError(e->in, 0, 0, error.what());
      }
    };
    if (e->out.empty())
      write(std::cout);
    else
      core::write_file_atomically(e->out, write);
  });

  auto i = std::make_shared<Conversion>();
  CLI::App* in = model->add_subcommand(
      "import", "Read a LIBLINEAR model into a localsgd model (logreg, svm, ridge, softmax)");
  in->add_option("file", i->in, "LIBLINEAR model file (liblinear-train's output)")->required();
  add_format(in, "--from", i->format);
  in->add_option("--out", i->out, "the localsgd model file to write")->required();
  in->footer(
      "Example:\n  liblinear-train -s 0 a9a a9a.liblinear\n"
      "  localsgd model import a9a.liblinear --out a9a.model\n"
      "  localsgd eval --model a9a.model --data a9a.t");
  in->callback([i] {
    refuse_shared_files({{"--out", i->out}}, {{"the LIBLINEAR model", i->in}});
    core::save_model(i->out, core::read_liblinear_model(i->in));
  });
}

}  // namespace localsgd::cli
