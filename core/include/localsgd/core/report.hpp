// Printing events (progress, summary, ...) in the formats of DESIGN.md §2:
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

}  // namespace localsgd::core
