#include "localsgd/core/errors.hpp"

#include <exception>
#include <new>

#include "localsgd/errors.hpp"

namespace localsgd {

ErrorReport describe_current_exception() {
  try {
    throw;
  } catch (const RankFailure& e) {
    return {e.exit_code(), e.what()};
  } catch (const Interrupted& e) {
    return {e.exit_code(), e.what()};
  } catch (const DataError& e) {
    return {kExitData, e.located_message()};
  } catch (const ParamError& e) {
    return {kExitUsage, e.what()};
  } catch (const UsageError& e) {
    return {kExitUsage, e.what()};
  } catch (const PluginError& e) {
    return {kExitPlugin, e.what()};
  } catch (const RuntimeFailure& e) {
    return {kExitRuntime, e.what()};
  } catch (const std::bad_alloc&) {
    return {kExitRuntime, "out of memory"};
  } catch (const std::exception& e) {
    return {kExitRuntime, std::string("internal error: ") + e.what()};
  } catch (...) {
    return {kExitRuntime, "internal error: unknown exception"};
  }
}

}  // namespace localsgd
