# Shared by the per-target toolchain files: a cross build with Debian's cross
# toolchain (g++-TRIPLET) and the target's multiarch libraries
# (libbpf-dev:ARCH ... where Debian has them; scripts/cross.sh installs and
# builds). The including file sets XF_CROSS_PROCESSOR, XF_CROSS_TRIPLET and
# XF_CROSS_QEMU. CMAKE_C_BYTE_ORDER follows from the compiler: the BPF objects
# get the target's byte order and asm/ headers (cmake/BpfObject.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${XF_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${XF_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${XF_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${XF_CROSS_TRIPLET})
# Target libraries and pkg-config files only; programs (clang, bpftool) from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/${XF_CROSS_TRIPLET} ${XDPFLOW_CROSS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${XF_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
if(XDPFLOW_CROSS_PREFIX)
  # Libraries scripts/cross.sh built from source where Debian has none.
  set(ENV{PKG_CONFIG_LIBDIR} "${XDPFLOW_CROSS_PREFIX}/lib/pkgconfig:$ENV{PKG_CONFIG_LIBDIR}")
endif()
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
# qemu-user runs the target's programs (ctest, gtest discovery); -L finds the
# target's loader and libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR ${XF_CROSS_QEMU} -L /usr/${XF_CROSS_TRIPLET})
