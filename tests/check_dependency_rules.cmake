# ctest `dependency_rules`: plugins/ include only the SDK, never core/ (no
# localsgd/core/ header, no core library in a plugin's CMakeLists.txt), and sdk/ includes
# nothing from core/, cli/ or plugins/. The out-of-tree build (tests/out_of_tree) proves it
# for the plugins it builds; this covers every file.
#
#   cmake -DSOURCE_DIR=<repo> -P check_dependency_rules.cmake
if(NOT DEFINED SOURCE_DIR)
  message(FATAL_ERROR "check_dependency_rules.cmake needs -DSOURCE_DIR=<repo>")
endif()

set(problems "")
# check(<folder> <what> <regex> <globs...>): every line of the matching files under
# <folder> that matches <regex> is a problem.
function(check folder what regex)
  set(found "")
  foreach(glob ${ARGN})
    file(GLOB_RECURSE files ${SOURCE_DIR}/${folder}/${glob})
    foreach(file ${files})
      file(STRINGS ${file} lines REGEX "${regex}")
      foreach(line ${lines})
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
        string(STRIP "${line}" line)
        list(APPEND found "  ${rel}: ${line} (${what})")
      endforeach()
    endforeach()
  endforeach()
  set(problems ${problems} ${found} PARENT_SCOPE)
endfunction()

set(sources *.cpp *.cc *.hpp *.h *.ipp)
set(include "^[ \t]*#[ \t]*include[ \t]*[<\"]")
check(plugins "a core header in a plugin" "${include}([^>\"]*/)?localsgd/core/" ${sources})
check(plugins "a core path in a plugin" "${include}[^>\"]*core/(include|src)/" ${sources})
check(plugins "a core library in a plugin"
      "^[^#]*(localsgd(::|_)core|localsgd_binary_format|localsgd_model_io|core/include)"
      CMakeLists.txt *.cmake)
check(sdk "a core header in the SDK" "${include}([^>\"]*/)?localsgd/core/" ${sources})
check(sdk "a plugin header in the SDK" "${include}([^>\"]*/)?localsgd/readers/" ${sources})
check(sdk "a core, cli or plugin path in the SDK" "${include}[^>\"]*(core|cli|plugins)/" ${sources})

if(problems)
  list(LENGTH problems count)
  string(REPLACE ";" "\n" text "${problems}")
  message(FATAL_ERROR "${count} dependency rule violation(s):\n${text}")
endif()
message(STATUS "dependency rules hold: plugins/ and sdk/ include nothing from core/")
