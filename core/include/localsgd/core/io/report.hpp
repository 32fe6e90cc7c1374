// Printing events (progress, summary, ...) in the formats of README "Output and exit codes":
//   table  human-readable "key  value" lines (the default)
//   json   one JSON object per line, each with "event" and "schema"
//   csv    a header line and a value line per event
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace localsgd::core {

enum class OutputFormat { table, json, csv };

OutputFormat parse_output_format(const std::string& name);  // UsageError when unknown

void print_event(std::ostream& out, OutputFormat format, const nlohmann::ordered_json& event);

// A stream of events: progress and sweep_point events become rows of one table (table format, with
// a header before the first) or CSV lines (with a header whenever the columns change); other events
// print as print_event does.
class EventPrinter {
 public:
  EventPrinter(std::ostream& out, OutputFormat format) : out_(out), format_(format) {}
  void print(const nlohmann::ordered_json& event);

 private:
  std::ostream& out_;
  OutputFormat format_;
  std::string last_header_;
};

}  // namespace localsgd::core
