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
#include "localsgd/core/data_summary.hpp"
#include "localsgd/core/data_writers.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/loading.hpp"
#include "localsgd/core/report.hpp"

namespace localsgd::cli {
namespace {

struct ReadFlags {
  std::string reader;
  std::vector<std::string> reader_params;
};

void add_read_options(CLI::App* app, ReadFlags& flags) {
  app->add_option("--reader", flags.reader, "reader plugin [by suffix: .csv, .bin, else libsvm]");
  app->add_option("--reader-param", flags.reader_params, "reader parameter key=value (repeatable)");
}

Dataset load(const std::string& path, const ReadFlags& flags) {
  return core::load_dataset(path, flags.reader,
                            collect_params("--reader-param", flags.reader_params));
}

// ---------------------------------------------------------------------------------------
// inspect

struct InspectFlags {
  std::string file;
  ReadFlags read;
  OutputFlags output;
};

// Table output lists at most this many label values: a regression target may have one
// per row. JSON always has them all.
constexpr std::size_t kLabelsShown = 20;

std::string labels_text(const std::map<double, std::int64_t>& labels) {
  std::string text;
  std::size_t shown = 0;
  for (const auto& [value, count] : labels) {
    if (shown++ == kLabelsShown) {
      text += " ... (" + std::to_string(labels.size() - kLabelsShown) + " more)";
      break;
    }
    text += (text.empty() ? "" : ", ") + format_number(value) + ": " + std::to_string(count);
  }
  return text;
}

void run_inspect(const InspectFlags& flags) {
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  const core::DataSummary s = core::summarize(load(flags.file, flags.read));
  const auto optional = [](const std::optional<double>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
  };
  nlohmann::ordered_json e;
  e["event"] = "inspect";
  e["schema"] = 1;
  e["source"] = s.source;
  e["rows"] = s.rows;
  e["cols"] = s.cols;
  e["nnz"] = s.nnz;
  e["density"] = s.density;
  if (format == core::OutputFormat::json) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (const auto& [value, count] : s.labels) labels[format_number(value)] = count;
    e["labels"] = labels;
  } else {
    e["labels"] = labels_text(s.labels);
  }
  e["distinct_labels"] = s.labels.size();
  e["min_value"] = optional(s.min_value);
  e["max_value"] = optional(s.max_value);
  e["empty_rows"] = s.empty_rows;
  core::print_event(std::cout, format, e);
}

// ---------------------------------------------------------------------------------------
// convert

struct ConvertFlags {
  std::string in, out, to;
  ReadFlags read;
  OutputFlags output;
};

void run_convert(const ConvertFlags& flags) {
  const core::OutputFormat format = core::parse_output_format(flags.output.format);
  if (flags.out == "-")  // stdout carries the convert event; a file named "-" is a trap
    throw UsageError("data convert writes to a file, not to standard output ('-')");
  // Checked before reading: a typo in --to should not cost a parse of a large file.
  const core::DataFormat to =
      flags.to.empty() ? core::data_format_for(flags.out) : core::parse_data_format(flags.to);
  const Dataset data = load(flags.in, flags.read);
  core::write_data_file(flags.out, data, to);
  nlohmann::ordered_json e;
  e["event"] = "convert";
  e["schema"] = 1;
  e["source"] = data.source;
  e["rows"] = data.rows();
  e["cols"] = data.cols;
  e["nnz"] = data.nnz();
  e["to"] = core::to_string(to);
  e["out"] = flags.out;
  core::print_event(std::cout, format, e);
}

}  // namespace

void set_data_command(CLI::App& app) {
  CLI::App* data =
      app.add_subcommand("data", "Inspect a data file or convert it to another format");
  data->require_subcommand(1);

  auto inspect_flags = std::make_shared<InspectFlags>();
  CLI::App* inspect = data->add_subcommand(
      "inspect", "Rows, columns, nnz, density, label counts and value range of a data file");
  inspect->add_option("file", inspect_flags->file, "data file")->required();
  add_read_options(inspect, inspect_flags->read);
  add_format_option(inspect, inspect_flags->output);
  inspect->callback([inspect_flags] { run_inspect(*inspect_flags); });

  auto convert_flags = std::make_shared<ConvertFlags>();
  CLI::App* convert = data->add_subcommand(
      "convert", "Write a data file as canonical LIBSVM, dense CSV or the binary cache (.bin)");
  convert->add_option("in", convert_flags->in, "input data file")->required();
  convert->add_option("out", convert_flags->out, "output file (written atomically)")->required();
  convert->add_option("--to", convert_flags->to,
                      "libsvm, csv or bin [by OUT's suffix: .csv, .bin, else libsvm]");
  add_read_options(convert, convert_flags->read);
  add_format_option(convert, convert_flags->output);
  convert->callback([convert_flags] { run_convert(*convert_flags); });
}

}  // namespace localsgd::cli
