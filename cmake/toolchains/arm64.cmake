# Cross build for arm64: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm64.cmake (scripts/cross.sh arm64).
set(XF_CROSS_PROCESSOR aarch64)
set(XF_CROSS_TRIPLET aarch64-linux-gnu)
set(XF_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
