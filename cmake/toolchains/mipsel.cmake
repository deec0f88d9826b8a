# Cross build for mipsel: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mipsel.cmake (scripts/cross.sh mipsel).
set(XF_CROSS_PROCESSOR mipsel)
set(XF_CROSS_TRIPLET mipsel-linux-gnu)
set(XF_CROSS_QEMU qemu-mipsel-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
