// Printing events (progress, summary, ...) in the formats of README "Output and exit codes":
//   table  human-readable "key  value" lines (the default)
//   json   one JSON object per line, each with "event" and "schema"
//   csv    a header line and a value line per event (EventPrinter: one header per stream)
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace localsgd::core {

enum class OutputFormat { table, json, csv };

OutputFormat parse_output_format(const std::string& name);  // UsageError when unknown

void print_event(std::ostream& out, OutputFormat format, const nlohmann::ordered_json& event);

// A stream of events: progress and sweep_point events become rows of one table (table format, with
// a header before the first) or CSV lines (with a header whenever the columns change); other events
// print as print_event does.
//
// A CSV stream that mixes kinds of events (progress rows, then a summary) is one table when
// its columns are declared first (csv_columns): one header with every column, each event a
// row with its own cells filled and the others empty, so that a CSV reader sees one table.
class EventPrinter {
 public:
  EventPrinter(std::ostream& out, OutputFormat format) : out_(out), format_(format) {}
  void print(const nlohmann::ordered_json& event);

  // Every column any event of this stream may have, in order (each event's keys must be
  // among them: a key outside is an internal error). Only the CSV format uses them.
  void csv_columns(std::vector<std::string> columns) { columns_ = std::move(columns); }

 private:
  void print_csv_row(const nlohmann::ordered_json& event);

  std::ostream& out_;
  OutputFormat format_;
  std::string last_header_;
  std::vector<std::string> columns_;
};

// The keys of `events` in order of first appearance (for EventPrinter::csv_columns).
std::vector<std::string> union_of_keys(std::initializer_list<nlohmann::ordered_json> events);

}  // namespace localsgd::core
