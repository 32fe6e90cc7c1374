#pragma once

#include <exception>
#include <string>
#include <utility>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {

// Runs `body`, a call into the plugin `name` of `kind`: the core's own errors pass
// through, a ParamError gets the plugin's name, anything else becomes a PluginError that
// names the plugin and `what` it was doing.
template <class Body>
auto call_plugin(PluginKind kind, const std::string& name, const char* what, Body&& body)
    -> decltype(body()) {
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
  } catch (const Interrupted&) {  // a signal, seen by a callback inside the call
    throw;
  } catch (const ParamError& e) {
    throw ParamError(name + ": " + e.what());
  } catch (const std::exception& e) {
    throw PluginError(std::string(to_string(kind)) + " plugin '" + name + "' failed in " + what +
                      ": " + e.what());
  } catch (...) {
    throw PluginError(std::string(to_string(kind)) + " plugin '" + name + "' failed in " + what +
                      ": unknown exception");
  }
}

template <class Body>
auto call_plugin(const Manifest& manifest, const char* what, Body&& body) -> decltype(body()) {
  return call_plugin(manifest.kind, std::string(manifest.name), what, std::forward<Body>(body));
}

}  // namespace localsgd::core
