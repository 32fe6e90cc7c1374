// What escapes a run: the core's own errors as they are, anything else (only the
// objective's code throws anything else during a run; the schedule driver names its
// plugin itself) as a PluginError. One mapping for the engine and for the errors MPI
// ranks share at a round's end.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {

[[noreturn]] inline void rethrow_as_run_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const RuntimeFailure&) {
    throw;
  } catch (const RankFailure&) {
    throw;
  } catch (const UsageError&) {
    throw;
  } catch (const PluginError&) {
    throw;
  } catch (const DataError&) {
    throw;
  } catch (const ParamError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw PluginError(std::string("a plugin failed during training: ") + e.what());
  } catch (...) {
    throw PluginError("a plugin failed during training: unknown exception");
  }
}

inline std::exception_ptr as_run_error(std::exception_ptr error) {
  if (!error) return error;
  try {
    rethrow_as_run_error(error);
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace localsgd::core
