#!/usr/bin/env bash
# differential.sh with the TC hook forwarding (--hook tc): the frames the TC
# program emits must be byte-identical to the kernel path's.
XF_DIFF_HOOK=tc exec "$(dirname "$0")/differential.sh"
