# Cross build for armhf: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/armhf.cmake (scripts/cross.sh armhf).
set(XF_CROSS_PROCESSOR arm)
set(XF_CROSS_TRIPLET arm-linux-gnueabihf)
set(XF_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
