// SPDX-License-Identifier: GPL-2.0
/* fuzz-ioctl built with -m32 (tests/guest/Makefile's %32 rule): the compat_ioctl paths. */
#include "fuzz-ioctl.c"
