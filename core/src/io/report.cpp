#include "localsgd/core/io/report.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

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

// Appends one column to a CSV header line and its value line.
void add_csv_column(std::string& header, std::string& values, bool first, const std::string& key,
                    const nlohmann::ordered_json& value) {
  const char* separator = first ? "" : ",";
  header += separator + key;
  values += separator + csv_field(value);
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
        add_csv_column(header, values, first, key, value);
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

std::vector<std::string> union_of_keys(std::initializer_list<nlohmann::ordered_json> events) {
  std::vector<std::string> keys;
  for (const nlohmann::ordered_json& event : events)
    for (const auto& [key, value] : event.items())
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  return keys;
}

void EventPrinter::print_csv_row(const nlohmann::ordered_json& event) {
  std::string header, values;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    const auto cell = event.find(columns_[c]);
    add_csv_column(header, values, c == 0, columns_[c],
                   cell == event.end() ? nlohmann::ordered_json() : *cell);
  }
  for (const auto& [key, value] : event.items())
    if (std::find(columns_.begin(), columns_.end(), key) == columns_.end())
      throw std::logic_error("CSV column '" + key + "' of a " + event.value("event", "") +
                             " event was not declared");
  if (last_header_.empty()) out_ << header << '\n';
  last_header_ = header;
  out_ << values << '\n';
  out_.flush();
}

void EventPrinter::print(const nlohmann::ordered_json& event) {
  if (format_ == OutputFormat::csv && !columns_.empty()) {
    print_csv_row(event);
    return;
  }
  const std::string name = event.value("event", "");
  const bool row = name == "progress" || name == "sweep_point";
  if (format_ == OutputFormat::json || (!row && format_ == OutputFormat::table)) {
    print_event(out_, format_, event);
    return;
  }
  std::string header, values;
  const bool table = format_ == OutputFormat::table;
  bool first = true;
  for (const auto& [key, value] : event.items()) {
    if (table && (key == "event" || key == "schema")) continue;
    if (table) {
      std::ostringstream cell;
      if (value.is_number_float())
        cell << std::setprecision(6) << value.get<double>();
      else
        cell << plain_text(value);
      const std::size_t width = std::max<std::size_t>(key.size(), 12) + 1;
      header += std::string(width - key.size(), ' ') + key;
      const std::string text = cell.str();
      values += std::string(width > text.size() ? width - text.size() : 1, ' ') + text;
    } else {
      add_csv_column(header, values, first, key, value);
    }
    first = false;
  }
  if (header != last_header_) out_ << header << '\n';
  last_header_ = header;
  out_ << values << '\n';
  out_.flush();
}

}  // namespace localsgd::core
