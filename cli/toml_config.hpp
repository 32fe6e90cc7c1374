// The config file reader behind --config: real TOML (toml++), handed to CLI11 as the
// key/value items its own reader would produce. CLI11's reader only approximates TOML:
// `1_000`, inline tables, multi-line strings and escapes were misread or refused.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace localsgd::cli {

// A syntax error is a CLI::ConfigError "toml:LINE:COLUMN: what"; config_message()
// (main.cpp) puts the file's name in place of "toml".
inline constexpr const char* kTomlErrorPrefix = "toml:";

class TomlConfig : public CLI::ConfigTOML {
 public:
  // `app`, when given, is the application whose options the keys name: two keys for one
  // option (`K` and `workers`) are then an error with the second's place.
  explicit TomlConfig(const CLI::App* app = nullptr) : app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
  // `key=value` lines of the options given (option groups included; --print-config), in
  // valid TOML that from_config reads back to the same text: canonical numbers and booleans
  // bare, everything else a TOML string with its escapes; repeatable options as arrays.
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;

  // Where `dotted_key` ("train.worker", or a section "trian") stands in the text the last
  // from_config read (so also for --config /dev/stdin): "LINE:COLUMN", or nothing.
  std::optional<std::string> key_position(const std::string& dotted_key) const;

 private:
  const CLI::App* app_;
  mutable std::string text_;  // the last text read
};

}  // namespace localsgd::cli
