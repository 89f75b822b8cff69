#!/bin/sh
# sysfs with two KCS BMCs (scripts/vm --bmc extern --bmc2; see t-ext-life-bmc2.sh for the set-up:
# ripmi is given the PCI KCS with ports=, polled). On the C stack and on ripmi: one
# /sys/class/ipmi/ipmiN per interface whose `dev` names /dev/ipmiN, a `bmc` link on each SI
# device, and BMC devices shared as C shares them (same GUID, or same product and device ID
# without a GUID), in two rounds (below). The SI devices differ by name (C binds the PCI device, ripmi its ports=
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

# Round "same": both BMCs report device ID 0x20 and product 0; only the simulator has a GUID,
# so C puts both interfaces on one BMC device (matched by product and device ID). Round "dev21":
# the simulator says 0x21, and each interface gets a BMC device of its own.
orig_id=$(bmcsim-ctl set | sed -n 's/^device_id=//p')
for r in same dev21; do
[ $r = dev21 ] && bmcsim-ctl set device_id 21 >/dev/null
for st in c ripmi; do
	s=$st.$r
	use-stack none
	if [ $st = c ]; then
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
done
use-stack none
bmcsim-ctl set device_id "$orig_id" >/dev/null
use-stack ripmi >/dev/null 2>&1

for r in same dev21; do
	for st in c ripmi; do echo "# $T $st $r: $(flat $out/summary.$st.$r)"; done
	n=$(grep -c '^class ipmi[0-9]* dev matches, bmc link ok$' $out/summary.ripmi.$r)
	[ "$n" = 2 ] && pass $r/two-class-devices || fail $r/two-class-devices "$(flat $out/summary.ripmi.$r)"
	links=$(sed -n 's/^bmc .* links=//p' $out/summary.ripmi.$r | awk '{ s += $1 } END { print s + 0 }')
	[ "$links" = 2 ] && pass $r/bmc-links || fail $r/bmc-links "$links link(s): $(flat $out/summary.ripmi.$r)"
	if [ "$(grep -c '^class ' $out/summary.c.$r)" != 2 ]; then
		fail $r/c-reference "C did not bind both: $(flat $out/summary.c.$r)"
	elif cmp -s $out/summary.c.$r $out/summary.ripmi.$r; then
		pass $r/same-as-c
	else
		fail $r/same-as-c "C: $(flat $out/summary.c.$r) ripmi: $(flat $out/summary.ripmi.$r)"
	fi
done
# Absolute: one shared BMC device, then two.
[ "$(grep -c '^bmc ' $out/summary.ripmi.same)" = 1 ] && pass ripmi-shared-bmc ||
	fail ripmi-shared-bmc "$(flat $out/summary.ripmi.same)"
[ "$(grep -c '^bmc ' $out/summary.ripmi.dev21)" = 2 ] && pass ripmi-two-bmcs ||
	fail ripmi-two-bmcs "$(flat $out/summary.ripmi.dev21)"
