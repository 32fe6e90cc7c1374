// Options shared by several subcommands.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "localsgd/sdk.hpp"

namespace localsgd::cli {

// key=value lists (--param, --reader-param, ...) into a ParamMap; UsageError when malformed.
ParamMap collect_params(const char* option, const std::vector<std::string>& items);

struct OutputFlags {
  std::string format = "table";
};
void add_format_option(CLI::App* app, OutputFlags& flags);

}  // namespace localsgd::cli
