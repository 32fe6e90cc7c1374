# ctest `out_of_tree_plugins`: configures and builds tests/out_of_tree (the bin and synthetic
# readers against the SDK alone) in BUILD_DIR, then checks that the plugins built there work
# and agree byte for byte with the in-tree ones, through the in-tree CLI.
#
#   cmake -DSOURCE_DIR=<repo> -DBUILD_DIR=<dir> -DCLI=<localsgd> -DCXX=<compiler> -P this
foreach(var SOURCE_DIR BUILD_DIR CLI CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_out_of_tree.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGV}")
    message(FATAL_ERROR "failed (${rc}): ${command}")
  endif()
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/out_of_tree -B ${BUILD_DIR} -G Ninja
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX}
    -DLOCALSGD_SDK_DIR=${SOURCE_DIR}/sdk/include -DLOCALSGD_PLUGINS_DIR=${SOURCE_DIR}/plugins)
# One job: the test runs beside the rest of the suite.
run(${CMAKE_COMMAND} --build ${BUILD_DIR} --parallel 1)

# The out-of-tree plugins, loaded by path, give the same files as the in-tree ones.
set(out ${BUILD_DIR}/check)
file(REMOVE_RECURSE ${out})
file(MAKE_DIRECTORY ${out})
set(params --reader-param n=500 --reader-param d=40 --reader-param density=0.2
           --reader-param seed=5)
foreach(which intree oot)
  if(which STREQUAL "oot")
    set(synthetic ${BUILD_DIR}/plugins/synthetic.so)
    set(bin ${BUILD_DIR}/plugins/bin.so)
  else()
    set(synthetic synthetic)
    set(bin bin)
  endif()
  run(${CLI} data convert ${out}/${which}.bin --reader ${synthetic} ${params}
      --reader-param truth=${out}/${which}.model OUTPUT_QUIET)
  run(${CLI} data convert ${out}/${which}.bin ${out}/${which}.svm --reader ${bin} OUTPUT_QUIET)
endforeach()
foreach(file .bin .model .svm)
  run(${CMAKE_COMMAND} -E compare_files ${out}/intree${file} ${out}/oot${file})
endforeach()
message(STATUS "out-of-tree bin and synthetic readers: built against the SDK alone, "
               "same output as the in-tree plugins")
