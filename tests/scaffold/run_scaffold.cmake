# ctest `plugin_scaffold_end_to_end`: what a plugin author does, from an installed localsgd.
# Installs the build into a temporary prefix; for each kind, `localsgd plugins new` writes
# a project, which is configured and built as a separate CMake project against the
# installed package (find_package(localsgd)), its own test passes, and the installed
# executable trains with the plugin, by path and, once the project is installed into the
# same prefix, by name with no environment variable.
#
#   cmake -DBUILD_DIR=<localsgd build> -DWORK_DIR=<scratch> -DCXX=<compiler> -P this
foreach(var BUILD_DIR WORK_DIR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_scaffold.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGV}")
    message(FATAL_ERROR "failed (${rc}): ${command}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
set(cli ${prefix}/bin/localsgd)
set(ENV{LOCALSGD_PLUGIN_PATH} "")  # only what the prefix holds

# A dense table for the reader, and a run configuration small enough for a test.
file(WRITE ${WORK_DIR}/table.txt "# label x1 x2 x3\n")
foreach(i RANGE 1 120)
  math(EXPR sign "(${i} % 2) * 2 - 1")
  math(EXPR a "${i} % 7")
  math(EXPR b "${i} % 5")
  file(APPEND ${WORK_DIR}/table.txt "${sign} ${a} ${b} ${sign}.5\n")
endforeach()
set(small --reader-param n=300 --reader-param d=10 --steps 200 --format json)

foreach(kind objective reader schedule)
  set(name demo_${kind})
  set(project ${WORK_DIR}/projects/${name})
  run(${cli} plugins new ${name} --kind ${kind} --dir ${WORK_DIR}/projects)
  run(${CMAKE_COMMAND} -S ${project} -B ${project}/build -G Ninja -DCMAKE_BUILD_TYPE=Release
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} --build ${project}/build --parallel 1)
  run(${CMAKE_CTEST_COMMAND} --test-dir ${project}/build --output-on-failure)
  set(plugin ${project}/build/${name}.so)
  if(kind STREQUAL "objective")
    set(by_path train --plugin ${plugin} ${small})
    set(by_name train --plugin ${name} ${small})
  elseif(kind STREQUAL "reader")
    set(by_path train --plugin logreg --data ${WORK_DIR}/table.txt --reader ${plugin}
        --steps 200 --format json)
    set(by_name train --plugin logreg --data ${WORK_DIR}/table.txt --reader ${name}
        --steps 200 --format json)
  else()
    set(by_path train --plugin logreg --schedule ${plugin} ${small})
    set(by_name train --plugin logreg --schedule ${name} ${small})
  endif()
  run(${cli} ${by_path})
  set(path_output "${last_output}")
  if(NOT path_output MATCHES "\"event\":\"summary\"")
    message(FATAL_ERROR "${name} by path: no summary in\n${path_output}")
  endif()
  run(${CMAKE_COMMAND} --install ${project}/build --prefix ${prefix})
  run(${cli} ${by_name})
  string(REGEX REPLACE "\"[a-z_]*seconds\":[^,}]*|\"samples_per_second\":[^,}]*" "" a
         "${path_output}")
  string(REGEX REPLACE "\"[a-z_]*seconds\":[^,}]*|\"samples_per_second\":[^,}]*" "" b
         "${last_output}")
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "${name}: by name, another run than by path:\n${a}\n${b}")
  endif()
  message(STATUS "${name}: scaffolded, built against the installed package, tested, "
                 "trained with by path and, installed, by name")
endforeach()
