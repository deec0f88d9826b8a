# Cross build for armhf with Debian's cross toolchain (g++-arm-linux-gnueabihf) and the
# multiarch libraries of the target (libbpf-dev:armhf ... where Debian has them;
# scripts/cross.sh armhf installs and builds). CMAKE_C_BYTE_ORDER and
# CMAKE_LIBRARY_ARCHITECTURE follow from the compiler: the BPF objects get the
# target's byte order and asm/ headers (cmake/BpfObject.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# Target libraries and pkg-config files only; programs (clang, bpftool) from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf ${XDPFLOW_CROSS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig")
if(XDPFLOW_CROSS_PREFIX)
  # Libraries scripts/cross.sh built from source where Debian has none.
  set(ENV{PKG_CONFIG_LIBDIR} "${XDPFLOW_CROSS_PREFIX}/lib/pkgconfig:$ENV{PKG_CONFIG_LIBDIR}")
endif()
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
# qemu-user runs the tests (ctest, gtest discovery): -L for the loader/libs.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static -L /usr/arm-linux-gnueabihf)
