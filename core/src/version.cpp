#include "localsgd/core/version.hpp"

namespace localsgd::core {

const char* version() {
  return LOCALSGD_VERSION;
}

}  // namespace localsgd::core
