#include "common.hpp"

#include "localsgd/core/plugins.hpp"

namespace localsgd::cli {

ParamMap collect_params(const char* option, const std::vector<std::string>& items) {
  ParamMap params;
  for (const std::string& item : items) core::add_key_value(params, option, item);
  return params;
}

void add_format_option(CLI::App* app, OutputFlags& flags) {
  app->add_option("--format", flags.format, "table, json or csv")->capture_default_str();
}

}  // namespace localsgd::cli
