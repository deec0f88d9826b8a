# bpf_object(NAME SOURCE [DEPENDS header...])
#
# Compiles SOURCE with clang -target bpf against the UAPI headers (no
# vmlinux.h from the build host), generates a libbpf skeleton NAME.skel.h with
# bpftool and exposes it as the INTERFACE target NAME_skel. The object is
# embedded in whatever links the target, so the binary carries its BPF code.
# Every header under include/ and bpf/ is a dependency: editing a shared
# struct rebuilds the object and the skeleton.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

function(bpf_object name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${source})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(skel ${skel_dir}/${name}.skel.h)
  file(GLOB shared_headers CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/include/xdpflow/*.h ${PROJECT_SOURCE_DIR}/bpf/*.h)
  execute_process(COMMAND uname -m OUTPUT_VARIABLE arch OUTPUT_STRIP_TRAILING_WHITESPACE)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
            -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/bpf
            -idirafter /usr/include/${arch}-linux-gnu
            -c ${src} -o ${obj}
    DEPENDS ${src} ${shared_headers} ${ARG_DEPENDS}
    COMMENT "BPF ${source}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${skel_dir}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${skel_dir})
endfunction()
