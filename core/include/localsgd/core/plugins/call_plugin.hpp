#pragma once

#include <exception>
#include <string>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {

template <class Body>
auto call_plugin(const Manifest& manifest, const char* what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const DataError&) {
    throw;
  } catch (const UsageError&) {  // the core's own errors, raised around the plugin call
    throw;
  } catch (const PluginError&) {
    throw;
  } catch (const RuntimeFailure&) {
    throw;
  } catch (const ParamError& e) {
    throw ParamError(std::string(manifest.name) + ": " + e.what());
  } catch (const std::exception& e) {
    throw PluginError(std::string(to_string(manifest.kind)) + " plugin '" + manifest.name +
                      "' failed in " + what + ": " + e.what());
  } catch (...) {
    throw PluginError(std::string(to_string(manifest.kind)) + " plugin '" + manifest.name +
                      "' failed in " + what + ": unknown exception");
  }
}

}  // namespace localsgd::core
