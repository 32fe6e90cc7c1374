#include "toml_config.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>
#include <system_error>

#include <toml++/toml.h>

namespace localsgd::cli {
namespace {

using Parents = std::vector<std::string>;

std::string position(const toml::source_region& where) {
  return kTomlErrorPrefix + std::to_string(where.begin.line) + ":" +
         std::to_string(where.begin.column);
}

// One scalar as the text an option's conversion reads: integers and floats as written
// (floats in their shortest round-trip form), booleans as true/false.
std::string scalar_text(const toml::node& value, const std::string& key) {
  if (const auto* s = value.as_string()) return s->get();
  if (const auto* i = value.as_integer()) return std::to_string(i->get());
  if (const auto* b = value.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = value.as_floating_point()) {
    std::array<char, 32> text{};
    const auto end = std::to_chars(text.data(), text.data() + text.size(), f->get()).ptr;
    return std::string(text.data(), end);
  }
  throw CLI::ConfigError(position(value.source()) + ": '" + key +
                         "' must be a string, number, boolean or an array of them");
}

// Each item's key with its place ("LINE:COLUMN"), in the order of the items (sections'
// open and close markers have none).
using Places = std::vector<std::string>;

void add_table(const toml::table& table, const Parents& parents,
               std::vector<CLI::ConfigItem>& items, Places& places) {
  for (const auto& [name, value] : table) {
    const std::string key(name.str());
    const std::string place =
        std::to_string(name.source().begin.line) + ":" + std::to_string(name.source().begin.column);
    if (const auto* section = value.as_table()) {
      // A section (or inline table) is a subcommand's: CLI11 opens it with "++" and
      // closes it with "--", as its own reader does.
      Parents inner = parents;
      inner.push_back(key);
      CLI::ConfigItem open;
      open.parents = inner;
      open.name = "++";
      items.push_back(open);
      places.emplace_back();
      add_table(*section, inner, items, places);
      CLI::ConfigItem close;
      close.parents = inner;
      close.name = "--";
      items.push_back(close);
      places.emplace_back();
      continue;
    }
    CLI::ConfigItem item;
    item.parents = parents;
    item.name = key;
    if (const auto* array = value.as_array()) {
      for (const toml::node& element : *array) item.inputs.push_back(scalar_text(element, key));
    } else {
      item.inputs.push_back(scalar_text(value, key));
    }
    items.push_back(std::move(item));
    places.push_back(place);
  }
}

// The option a config key sets, as CLI11 finds it: by long name, else short, else as is.
const CLI::Option* option_of(const CLI::App& app, const CLI::ConfigItem& item) {
  const CLI::App* command = &app;
  for (const std::string& parent : item.parents) {
    try {
      command = command->get_subcommand(parent);
    } catch (const CLI::OptionNotFound&) {
      return nullptr;  // CLI11 reports the unknown section
    }
  }
  const CLI::Option* option = command->get_option_no_throw("--" + item.name);
  if (option == nullptr && item.name.size() == 1)
    option = command->get_option_no_throw("-" + item.name);
  return option != nullptr ? option : command->get_option_no_throw(item.name);
}

// toml++ parses a dotted key (a.b.c = 1, [a.b.c]) recursively, one stack frame per part,
// and no option is more than two deep: a line with thousands of parts would overflow the
// stack (or take gigabytes) before any check. So dots that separate key parts are counted
// first, per line, outside strings, comments and numbers (a dot between digits).
constexpr int kMaxDottedParts = 32;

void check_key_depth(const std::string& text) {
  enum class In { code, basic, literal, multi_basic, multi_literal, comment } in = In::code;
  std::int64_t line = 1, column = 0, dots = 0;
  const auto at = [&](std::size_t i, const char* s) { return text.compare(i, 3, s) == 0; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    ++column;
    if (c == '\n') {
      ++line, column = 0, dots = 0;
      if (in == In::comment || in == In::basic || in == In::literal) in = In::code;
      continue;
    }
    switch (in) {
      case In::comment: break;
      case In::basic:
        if (c == '\\')
          ++i, ++column;
        else if (c == '"')
          in = In::code;
        break;
      case In::literal:
        if (c == '\'') in = In::code;
        break;
      case In::multi_basic:
        if (c == '\\')
          ++i, ++column;
        else if (at(i, "\"\"\""))
          in = In::code, i += 2, column += 2;
        break;
      case In::multi_literal:
        if (at(i, "'''")) in = In::code, i += 2, column += 2;
        break;
      case In::code:
        if (c == '#')
          in = In::comment;
        else if (at(i, "\"\"\""))
          in = In::multi_basic, i += 2, column += 2;
        else if (at(i, "'''"))
          in = In::multi_literal, i += 2, column += 2;
        else if (c == '"')
          in = In::basic;
        else if (c == '\'')
          in = In::literal;
        else if (c == '.') {
          const bool in_number = i > 0 && i + 1 < text.size() && std::isdigit(text[i - 1]) != 0 &&
                                 std::isdigit(text[i + 1]) != 0;
          if (!in_number && ++dots >= kMaxDottedParts)
            throw CLI::ConfigError(kTomlErrorPrefix + std::to_string(line) + ":" +
                                   std::to_string(column) + ": a key of more than " +
                                   std::to_string(kMaxDottedParts) +
                                   " dotted parts (no option is that deep)");
        }
        break;
    }
  }
}

}  // namespace

std::vector<CLI::ConfigItem> TomlConfig::from_config(std::istream& input) const {
  const std::string text{std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
  check_key_depth(text);
  toml::table table;
  try {
    table = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    // `plugin = logreg` was accepted by the INI-like reader of earlier versions.
    if (what.find("could not determine value type") != std::string::npos)
      what += " (a string needs quotes: key = \"text\")";
    throw CLI::ConfigError(position(e.source()) + ": " + what);
  }
  std::vector<CLI::ConfigItem> items;
  Places places;
  add_table(table, {}, items, places);
  text_ = text;
  // Two keys for one option (K and workers): TOML sees two keys, CLI11 would keep one.
  if (app_ != nullptr) {
    std::vector<std::pair<const CLI::Option*, std::size_t>> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (places[i].empty()) continue;
      const CLI::Option* option = option_of(*app_, items[i]);
      if (option == nullptr) continue;
      for (const auto& [other, j] : seen)
        if (other == option)
          throw CLI::ConfigError(kTomlErrorPrefix + places[i] + ": '" + items[i].name + "' and '" +
                                 items[j].name + "' (line " +
                                 places[j].substr(0, places[j].find(':')) + ") both set " +
                                 option->get_name() + ": give one");
      seen.emplace_back(option, i);
    }
  }
  return items;
}

std::optional<std::string> TomlConfig::key_position(const std::string& dotted_key) const {
  try {
    const toml::table table = toml::parse(text_);
    // The key's own place (a key-value node's source is its value's).
    const auto dot = dotted_key.rfind('.');
    const toml::table* parent =
        dot == std::string::npos ? &table : table.at_path(dotted_key.substr(0, dot)).as_table();
    if (parent == nullptr) return std::nullopt;
    const std::string name = dot == std::string::npos ? dotted_key : dotted_key.substr(dot + 1);
    for (const auto& [key, value] : *parent)
      if (key.str() == name) {
        const toml::source_position where = key.source().begin;
        return std::to_string(where.line) + ":" + std::to_string(where.column);
      }
    return std::nullopt;
  } catch (const std::exception&) {  // the text was read once already; never fail here
    return std::nullopt;
  }
}

namespace {

// `text` as TOML writes it, read back by from_config to exactly `text`: bare when it is
// already the canonical form of an integer (within int64), of a float (shortest
// round-trip form) or a boolean — a file named "1e3" must not come back as "1000" — else a
// basic string with its escapes (the option converts "1e-3" or ".5" as on the command line).
std::string toml_value(const std::string& text) {
  if (text == "true" || text == "false") return text;
  if (!text.empty() && text.size() < 32) {
    const char* end = text.data() + text.size();
    std::int64_t integer = 0;
    if (const auto r = std::from_chars(text.data(), end, integer);
        r.ec == std::errc() && r.ptr == end && std::to_string(integer) == text)
      return text;
    double real = 0;
    if (const auto r = std::from_chars(text.data(), end, real);
        r.ec == std::errc() && r.ptr == end && std::isfinite(real) &&
        text.find_first_of(".e") != std::string::npos) {
      std::array<char, 32> shortest{};
      char* stop = std::to_chars(shortest.data(), shortest.data() + shortest.size(), real).ptr;
      // TOML also wants a digit on both sides of a point (".5" and "5." stay strings).
      if (std::string(shortest.data(), stop) == text && text.front() != '.' && text.back() != '.')
        return text;
    }
  }
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string TomlConfig::to_config(const CLI::App* app, bool default_also, bool write_description,
                                  std::string prefix) const {
  std::string out;
  for (const CLI::Option* option : app->get_options({})) {
    if (!option->get_configurable()) continue;
    const std::vector<std::string> values = option->reduced_results();
    if (values.empty()) continue;
    out += prefix + option->get_single_name() + "=";
    if (values.size() == 1 && option->get_items_expected_max() <= 1) {
      out += toml_value(values.front());
    } else {
      out += "[";
      for (std::size_t i = 0; i < values.size(); ++i)
        out += (i > 0 ? ", " : "") + toml_value(values[i]);
      out += "]";
    }
    out += "\n";
  }
  for (const CLI::App* group : app->get_subcommands({}))
    if (group->get_name().empty())  // option groups; named subcommands have sections
      out += to_config(group, default_also, write_description, prefix);
  return out;
}

}  // namespace localsgd::cli
