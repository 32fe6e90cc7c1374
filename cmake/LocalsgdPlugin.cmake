# localsgd_add_plugin(<name> SOURCES <files...> [OUTPUT_DIR <dir>] [NO_INSTALL])
#
# Builds <name>.so (target plugin_<name>) as a MODULE against the header-only SDK only:
# hidden visibility (only the manifest alias is exported) and no undefined symbols, so a
# missing definition fails at link time rather than at load time. Named <name>.so, it
# loads by its plugin name; it installs into <prefix>/lib/localsgd/plugins, where an
# installed localsgd looks. The same file serves localsgd's own build and, installed with
# the CMake package (find_package(localsgd)), out-of-tree projects, where the library goes
# to the current binary directory unless OUTPUT_DIR says otherwise.
function(localsgd_add_plugin name)
  cmake_parse_arguments(PLUGIN "NO_INSTALL" "OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT PLUGIN_OUTPUT_DIR)
    set(PLUGIN_OUTPUT_DIR ${LOCALSGD_PLUGIN_OUTPUT_DIR})
  endif()
  if(NOT PLUGIN_OUTPUT_DIR)
    set(PLUGIN_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  set(target plugin_${name})
  add_library(${target} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${target} PRIVATE localsgd::sdk)
  # clang leaves a sanitizer's runtime out of shared objects (the executable brings it),
  # so in sanitized clang builds the check cannot hold.
  if(NOT (LOCALSGD_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"))
    target_link_options(${target} PRIVATE LINKER:--no-undefined)
  endif()
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${PLUGIN_OUTPUT_DIR})
  if(NOT PLUGIN_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION lib/localsgd/plugins)
    set_property(GLOBAL APPEND PROPERTY LOCALSGD_PLUGIN_TARGETS ${target})
  endif()
endfunction()
