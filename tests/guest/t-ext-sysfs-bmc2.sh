#!/bin/sh
# sysfs with two KCS BMCs (scripts/vm --bmc extern --bmc2; see t-ext-life-bmc2.sh for the set-up:
# ripmi is given the PCI KCS with ports=, polled). On the C stack and on ripmi: one
# /sys/class/ipmi/ipmiN per interface whose `dev` names /dev/ipmiN, a `bmc` link on each SI
# device, and BMC devices shared as C shares them (same GUID, or same product and device ID
# without a GUID). The SI devices differ by name (C binds the PCI device, ripmi its ports=
# platform device), so the comparison is of the structure and the BMC files, not of paths.
# Runs only in a --bmc2 boot (run-guest-tests skips *-bmc2 otherwise).
T=ext-sysfs-bmc2
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
flat() { tr '\n' '|' <"$1" | head -c 700; }

use-stack none
bar=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/class)" = 0x0c0701 ] || continue
	bar=$(head -n 1 $d/resource | cut -d' ' -f1)
done
nacpi=$(ls -d /sys/bus/acpi/devices/IPI0001:* 2>/dev/null | wc -l)
rparams=
[ "$nacpi" -lt 2 ] && [ -n "$bar" ] && rparams="ports=$((bar))"

# The structure of what the stack loaded now shows.
summary() {
	for c in /sys/class/ipmi/*; do
		[ -e "$c" ] || continue
		dev=$(cat "$c/dev" 2>&1)
		node=$(stat -c '%t %T' "/dev/${c##*/}" 2>/dev/null | { read -r ma mi && echo "$((0x$ma)):$((0x$mi))"; })
		[ "$dev" = "$node" ] && m=matches || m="is $dev, node $node"
		si=$(readlink -f "$c/device")
		b=$(readlink -f "$si/bmc")
		echo "class ${c##*/} dev $m, bmc link $([ -d "$b" ] && echo ok || echo missing)"
	done
	for b in /sys/bus/platform/devices/ipmi_bmc.*; do
		[ -e "$b" ] || continue
		n=0
		for l in "$b"/ipmi*; do [ -L "$l" ] && n=$((n + 1)); done
		echo "bmc device_id=$(cat $b/device_id) product_id=$(cat $b/product_id) guid=$(cat $b/guid 2>/dev/null || echo none) fw=$(cat $b/firmware_revision) links=$n"
	done | sort
}

for s in c ripmi; do
	use-stack none
	if [ $s = c ]; then
		insmod /lib/modules/c-ipmi/ipmi_msghandler.ko && insmod /lib/modules/c-ipmi/ipmi_devintf.ko &&
			insmod /lib/modules/c-ipmi/ipmi_si.ko
	else
		# shellcheck disable=SC2086 # one word per parameter
		insmod /lib/modules/ripmi.ko $rparams
	fi
	i=0; while [ ! -c /dev/ipmi1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
	summary >$out/summary.$s 2>&1
done
use-stack ripmi >/dev/null 2>&1

for s in c ripmi; do echo "# $T $s: $(flat $out/summary.$s)"; done
n=$(grep -c '^class ipmi[0-9]* dev matches, bmc link ok$' $out/summary.ripmi)
[ "$n" = 2 ] && pass two-class-devices || fail two-class-devices "$(flat $out/summary.ripmi)"
links=$(sed -n 's/^bmc .* links=//p' $out/summary.ripmi | awk '{ s += $1 } END { print s + 0 }')
[ "$links" = 2 ] && pass bmc-links || fail bmc-links "$links link(s): $(flat $out/summary.ripmi)"
if [ "$(grep -c '^class ' $out/summary.c)" != 2 ]; then
	fail c-reference "C did not bind both: $(flat $out/summary.c)"
elif cmp -s $out/summary.c $out/summary.ripmi; then
	pass same-as-c
else
	fail same-as-c "C: $(flat $out/summary.c) ripmi: $(flat $out/summary.ripmi)"
fi
