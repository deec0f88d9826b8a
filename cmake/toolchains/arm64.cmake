# Cross build for arm64 with Debian's cross toolchain (g++-aarch64-linux-gnu) and the
# multiarch libraries of the target (libbpf-dev:arm64 ... where Debian has them;
# scripts/cross.sh arm64 installs and builds). CMAKE_C_BYTE_ORDER and
# CMAKE_LIBRARY_ARCHITECTURE follow from the compiler: the BPF objects get the
# target's byte order and asm/ headers (cmake/BpfObject.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Target libraries and pkg-config files only; programs (clang, bpftool) from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu ${XDPFLOW_CROSS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
if(XDPFLOW_CROSS_PREFIX)
  # Libraries scripts/cross.sh built from source where Debian has none.
  set(ENV{PKG_CONFIG_LIBDIR} "${XDPFLOW_CROSS_PREFIX}/lib/pkgconfig:$ENV{PKG_CONFIG_LIBDIR}")
endif()
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
# qemu-user runs the tests (ctest, gtest discovery): -L for the loader/libs.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /usr/aarch64-linux-gnu)
