// `localsgd data inspect FILE` and `localsgd data convert IN OUT [--to libsvm|csv|bin]`.
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/report.hpp"
#include "localsgd/core/run/commands.hpp"

namespace localsgd::cli {
namespace {

struct ReadFlags {
  std::string reader;
  std::vector<std::string> reader_params;
};

void add_read_options(CLI::App* app, ReadFlags& flags) {
  app->add_option("--reader", flags.reader, "reader plugin [by suffix: .csv, .bin, else libsvm]");
  // One value per occurrence: greedy, it would swallow the file names that follow.
  app->add_option("--reader-param", flags.reader_params, "reader parameter key=value (repeatable)")
      ->allow_extra_args(false);
}

core::DataRequest request(const std::string& file, const ReadFlags& flags) {
  return {file, {flags.reader, collect_params("--reader-param", flags.reader_params)}};
}

struct InspectFlags {
  std::string file;
  ReadFlags read;
  OutputFlags output;
};

// The synthetic reader generates its rows and reads no file.
bool generated(const ReadFlags& flags) {
  return core::generates_rows(flags.reader);
}

void run_inspect(const InspectFlags& flags) {
  if (flags.file.empty() && !generated(flags.read))
    throw UsageError("data inspect needs a FILE (or --reader synthetic, which generates one)");
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  core::print_event(
      std::cout, format,
      core::inspect_data(request(flags.file, flags.read), format != core::OutputFormat::json));
}

struct ConvertFlags {
  std::string in, out, to;
  ReadFlags read;
  OutputFlags output;
};

void run_convert(const ConvertFlags& flags) {
  // With --reader synthetic the one file named is the output.
  const bool one_file = flags.out.empty() && generated(flags.read);
  const std::string in = one_file ? "" : flags.in, out = one_file ? flags.in : flags.out;
  if (out.empty())
    throw UsageError(generated(flags.read)
                         ? "data convert --reader synthetic needs OUT"
                         : "data convert needs IN and OUT (with --reader synthetic, OUT alone)");
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  refuse_shared_files({{"output", out}}, {{"input", in}});
  core::print_event(std::cout, format, core::convert_data(request(in, flags.read), out, flags.to));
}

}  // namespace

void set_data_command(CLI::App& app) {
  CLI::App* data =
      app.add_subcommand("data", "Inspect a data file or convert it to another format");
  data->require_subcommand(1);

  auto inspect_flags = std::make_shared<InspectFlags>();
  CLI::App* inspect = data->add_subcommand(
      "inspect", "Rows, columns, nnz, density, label counts and value range of a data file");
  inspect->add_option("file", inspect_flags->file, "data file (none with --reader synthetic)");
  add_read_options(inspect, inspect_flags->read);
  add_format_option(inspect, inspect_flags->output);
  inspect->callback([inspect_flags] { run_inspect(*inspect_flags); });

  auto convert_flags = std::make_shared<ConvertFlags>();
  CLI::App* convert = data->add_subcommand(
      "convert", "Write a data file as canonical LIBSVM, dense CSV or the binary cache (.bin)");
  convert->add_option("in", convert_flags->in, "input data file (none with --reader synthetic)");
  convert->add_option("out", convert_flags->out, "output file (written atomically)");
  convert->add_option("--to", convert_flags->to,
                      "libsvm, csv or bin [by OUT's suffix: .csv, .bin, else libsvm]");
  add_read_options(convert, convert_flags->read);
  add_format_option(convert, convert_flags->output);
  convert->callback([convert_flags] { run_convert(*convert_flags); });
}

}  // namespace localsgd::cli
