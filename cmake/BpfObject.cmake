# bpf_object(NAME SOURCE [DEPENDS header...])
#
# Compiles SOURCE with clang for the BPF target of the *target* machine's
# byte order (bpfel or bpfeb, from CMAKE_C_BYTE_ORDER: a cross build through a
# toolchain file gets the target's), against the UAPI headers of the target's
# multiarch triplet (no vmlinux.h, nothing from `uname`), generates a libbpf
# skeleton NAME.skel.h with bpftool and exposes it as the INTERFACE target
# NAME_skel. The object is embedded in whatever links the target, so the
# binary carries its BPF code. Every header under include/ and bpf/ is a
# dependency: editing a shared struct rebuilds the object and the skeleton.
#
# bpf_object_only(NAME SOURCE ENDIAN): the object alone for ENDIAN (bpfel or
# bpfeb), e.g. the other byte order's object for the BTF layout check.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin)

if(CMAKE_C_BYTE_ORDER STREQUAL "BIG_ENDIAN")
  set(XDPFLOW_BPF_TARGET bpfeb)
  set(XDPFLOW_BPF_TARGET_OTHER bpfel)
else()
  set(XDPFLOW_BPF_TARGET bpfel)
  set(XDPFLOW_BPF_TARGET_OTHER bpfeb)
endif()

# __TARGET_ARCH_<arch> as libbpf's bpf_tracing.h names the architectures.
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _xf_proc)
if(_xf_proc MATCHES "^(x86_64|amd64|i.86)$")
  set(XDPFLOW_BPF_ARCH x86)
elseif(_xf_proc MATCHES "^(aarch64|arm64)")
  set(XDPFLOW_BPF_ARCH arm64)
elseif(_xf_proc MATCHES "^arm")
  set(XDPFLOW_BPF_ARCH arm)
elseif(_xf_proc MATCHES "^mips")
  set(XDPFLOW_BPF_ARCH mips)
elseif(_xf_proc MATCHES "^(ppc|powerpc)")
  set(XDPFLOW_BPF_ARCH powerpc)
elseif(_xf_proc MATCHES "^riscv")
  set(XDPFLOW_BPF_ARCH riscv)
elseif(_xf_proc MATCHES "^s390")
  set(XDPFLOW_BPF_ARCH s390)
else()
  message(FATAL_ERROR "BpfObject: no __TARGET_ARCH_ for CMAKE_SYSTEM_PROCESSOR '${CMAKE_SYSTEM_PROCESSOR}'")
endif()

# asm/types.h and friends of the target: Debian puts them under the multiarch
# triplet (linux-libc-dev:ARCH) or, for the cross toolchains, /usr/TRIPLET/include.
set(XDPFLOW_BPF_SYSINCLUDES)
if(CMAKE_LIBRARY_ARCHITECTURE)
  foreach(dir /usr/include/${CMAKE_LIBRARY_ARCHITECTURE} /usr/${CMAKE_LIBRARY_ARCHITECTURE}/include)
    if(IS_DIRECTORY ${dir}/asm)
      list(APPEND XDPFLOW_BPF_SYSINCLUDES -idirafter ${dir})
    endif()
  endforeach()
endif()
if(NOT XDPFLOW_BPF_SYSINCLUDES)
  message(FATAL_ERROR "BpfObject: no asm/ headers for '${CMAKE_LIBRARY_ARCHITECTURE}' (install linux-libc-dev for the target)")
endif()
message(STATUS "BPF objects: -target ${XDPFLOW_BPF_TARGET} -D__TARGET_ARCH_${XDPFLOW_BPF_ARCH} ${XDPFLOW_BPF_SYSINCLUDES}")

function(_bpf_compile obj src endian)
  file(GLOB shared_headers CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/include/xdpflow/*.h ${PROJECT_SOURCE_DIR}/bpf/*.h
       ${PROJECT_SOURCE_DIR}/cmake/bpf-include/asm/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target ${endian} -D__TARGET_ARCH_${XDPFLOW_BPF_ARCH} -Wall -Werror
            -I${PROJECT_SOURCE_DIR}/cmake/bpf-include
            -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/bpf
            ${XDPFLOW_BPF_SYSINCLUDES}
            -c ${src} -o ${obj}
    DEPENDS ${src} ${shared_headers} ${ARGN}
    COMMENT "BPF (${endian}) ${src}"
    VERBATIM)
endfunction()

function(bpf_object name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${source})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(skel ${skel_dir}/${name}.skel.h)
  if(NOT BPFTOOL)
    message(FATAL_ERROR "bpftool not found: it generates the skeleton of ${source}")
  endif()
  _bpf_compile(${obj} ${src} ${XDPFLOW_BPF_TARGET} ${ARG_DEPENDS})
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

function(bpf_object_only name source endian)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  _bpf_compile(${obj} ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${endian})
  add_custom_target(${name}_obj ALL DEPENDS ${obj})
endfunction()
