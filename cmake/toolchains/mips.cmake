# Cross build for mips: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mips.cmake (scripts/cross.sh mips).
set(XF_CROSS_PROCESSOR mips)
set(XF_CROSS_TRIPLET mips-linux-gnu)
set(XF_CROSS_QEMU qemu-mips-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
