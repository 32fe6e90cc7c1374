#include "localsgd/core/report.hpp"

#include <algorithm>
#include <iomanip>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {
namespace {

std::string plain_text(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string csv_field(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  std::string text = plain_text(value);
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

OutputFormat parse_output_format(const std::string& name) {
  if (name == "table") return OutputFormat::table;
  if (name == "json") return OutputFormat::json;
  if (name == "csv") return OutputFormat::csv;
  throw UsageError("--format " + name + ": expected table, json or csv");
}

void print_event(std::ostream& out, OutputFormat format, const nlohmann::ordered_json& event) {
  switch (format) {
    case OutputFormat::json: out << event.dump() << '\n'; break;
    case OutputFormat::csv: {
      std::string header, values;
      bool first = true;
      for (const auto& [key, value] : event.items()) {
        const char* separator = first ? "" : ",";
        header += separator + key;
        values += separator + csv_field(value);
        first = false;
      }
      out << header << '\n' << values << '\n';
      break;
    }
    case OutputFormat::table: {
      std::size_t width = 0;
      for (const auto& [key, value] : event.items()) width = std::max(width, key.size());
      for (const auto& [key, value] : event.items()) {
        if (key == "event" || key == "schema") continue;
        out << std::left << std::setw(static_cast<int>(width) + 2) << key << plain_text(value)
            << '\n';
      }
      break;
    }
  }
  out.flush();
}

}  // namespace localsgd::core
