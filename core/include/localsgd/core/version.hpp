// localsgd's version: CMake's project(VERSION), in one place for `--version`, the run
// summary and anything else that reports it.
#pragma once

namespace localsgd::core {

const char* version();

}  // namespace localsgd::core
