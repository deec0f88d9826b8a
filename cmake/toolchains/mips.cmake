# Cross build for mips with Debian's cross toolchain (g++-mips-linux-gnu) and the
# multiarch libraries of the target (libbpf-dev:mips ... where Debian has them;
# scripts/cross.sh mips installs and builds). CMAKE_C_BYTE_ORDER and
# CMAKE_LIBRARY_ARCHITECTURE follow from the compiler: the BPF objects get the
# target's byte order and asm/ headers (cmake/BpfObject.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR mips)
set(CMAKE_C_COMPILER mips-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER mips-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE mips-linux-gnu)
# Target libraries and pkg-config files only; programs (clang, bpftool) from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/mips-linux-gnu ${XDPFLOW_CROSS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/mips-linux-gnu/pkgconfig:/usr/share/pkgconfig")
if(XDPFLOW_CROSS_PREFIX)
  # Libraries scripts/cross.sh built from source where Debian has none.
  set(ENV{PKG_CONFIG_LIBDIR} "${XDPFLOW_CROSS_PREFIX}/lib/pkgconfig:$ENV{PKG_CONFIG_LIBDIR}")
endif()
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
# qemu-user runs the tests (ctest, gtest discovery): -L for the loader/libs.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-mips-static -L /usr/mips-linux-gnu)
