#!/bin/sh
# Regenerates dev_ipmi.txt.const (amd64 and 386) from a kernel tree's uapi <linux/ipmi.h>.
# usage: tools/syzkaller/gen-const.sh [KERNEL_SOURCE]   (default: the installed /usr/include)
# Needs gcc with -m32 support (gcc-multilib).
set -e
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc=
if [ -n "${1:-}" ]; then
	mkdir -p "$tmp/inc/linux"
	for h in ipmi.h ipmi_msgdefs.h; do
		sed -e 's/__user//' -e '/#include <linux\/compiler.h>/d' "$1/include/uapi/linux/$h" >"$tmp/inc/linux/$h"
	done
	inc="-I$tmp/inc"
fi
gcc -m64 $inc -o "$tmp/c64" "$here/ipmi-consts.c"
gcc -m32 $inc -o "$tmp/c32" "$here/ipmi-consts.c"
"$tmp/c64" | sort >"$tmp/64"
"$tmp/c32" | sort >"$tmp/32"
{
	echo "# Made by tools/syzkaller/gen-const.sh from include/uapi/linux/ipmi.h (not syz-extract)."
	echo "arches = 386, amd64"
	# One line per constant: the amd64 value, plus the 386 one where it differs.
	join -t= "$tmp/64" "$tmp/32" | while IFS='=' read -r name v64 v32; do
		name=${name% } v64=${v64# } v32=${v32# }
		if [ "$v64" = "$v32" ]; then echo "$name = $v64"; else echo "$name = $v64, 386:$v32"; fi
	done
} >"$here/dev_ipmi.txt.const"
echo "wrote $here/dev_ipmi.txt.const"
