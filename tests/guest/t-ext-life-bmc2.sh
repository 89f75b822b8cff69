#!/bin/sh
# Two KCS BMCs in one VM (scripts/vm --bmc extern --bmc2): the usual isa-ipmi-kcs at 0xca2 with
# ripmi's simulator, and a pci-ipmi-kcs with QEMU's ipmi-bmc-sim behind it (QEMU 10.0 allows only
# one isa-ipmi-kcs and one ipmi-bmc-extern). On the C stack and on ripmi in one boot: two
# /dev/ipmiN nodes must exist and both must answer Get Device ID, one through the simulator (its
# count goes up) and one not (QEMU's BMC; both report device ID 0x20: given device_id=0x21,
# QEMU 10.0.2's ipmi-bmc-sim still answered 0x20).
# Only the ISA KCS has an ACPI IPI0001 entry. C's ipmi_si finds the PCI one by its class
# (0x0c0701, ipmi_si_pci.c); ripmi has no PCI driver and is given the BAR's I/O port with ports=
# (polled). The test prints what the firmware described and what each stack was given.
# Runs only in a --bmc2 boot (run-guest-tests skips *-bmc2 otherwise).
T=ext-life-bmc2
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
flat() { tr '\n' '|' <"$1" | head -c 500; }
cnt() { bmcsim-ctl count 6 1 | sed -n 's/^ok //p'; }

use-stack none
# What the firmware describes, and the PCI KCS.
pci=
{
	for d in /sys/bus/acpi/devices/IPI0001:*; do
		[ -e "$d" ] || continue
		echo "acpi ${d##*/} path=$(cat $d/path 2>/dev/null) status=$(cat $d/status 2>/dev/null)"
	done
	# SMBIOS type 38 records become dmi-ipmi-si.N platform devices (ipmi_dmi.c, built in).
	for d in /sys/bus/platform/devices/dmi-ipmi-si.*; do
		[ -e "$d" ] && echo "smbios38 ${d##*/}"
	done
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/class)" = 0x0c0701 ] || continue
		echo "pci ${d##*/} class=0x0c0701 bar0=$(head -n 1 $d/resource) irq=$(cat $d/irq)"
	done
} >$out/firmware
bar=$(sed -n 's/^pci .* bar0=\(0x[0-9a-f]*\) .*/\1/p' $out/firmware | head -n 1)
nacpi=$(grep -c '^acpi ' $out/firmware)
if [ "$nacpi" -ge 2 ]; then
	cparams= rparams=
else
	cparams= rparams="ports=$((bar))"
fi
echo "# $T: firmware: $(flat $out/firmware)"
echo "# $T: C ipmi_si params '$cparams', ripmi params '$rparams'"

for s in c ripmi; do
	use-stack none
	dmesg -c >/dev/null
	if [ $s = c ]; then
		insmod /lib/modules/c-ipmi/ipmi_msghandler.ko && insmod /lib/modules/c-ipmi/ipmi_devintf.ko &&
			insmod /lib/modules/c-ipmi/ipmi_si.ko $cparams
	else
		insmod /lib/modules/ripmi.ko $rparams
	fi
	echo "load rc=$?" >$out/load.$s
	i=0; while [ ! -c /dev/ipmi1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
	ls /dev/ipmi* >>$out/load.$s 2>&1
	dmesg | grep -iE 'ipmi|kcs|debugfs|sysfs|probe' | grep -vE 'ripmi_|Subtest|^ *ok|# ' |
		tail -n 12 >$out/dmesg.$s
	: >$out/nodes.$s
	for n in /dev/ipmi*; do
		[ -c "$n" ] || continue
		a=$(cnt)
		r=$(IPMI_DEV=$n life-client send si 1 wait 10000 2>&1 | grep '^ans' | head -n 1)
		echo "$n sim+$(($(cnt) - a)) $r" >>$out/nodes.$s
	done
done
use-stack ripmi >/dev/null 2>&1

for s in c ripmi; do
	echo "# $T $s: $(flat $out/load.$s) nodes: $(flat $out/nodes.$s)"
	echo "# $T $s dmesg: $(flat $out/dmesg.$s)"
done
# Absolute checks on ripmi: two nodes, one reaching each BMC.
n=$(grep -c '^/dev/ipmi' $out/nodes.ripmi)
[ "$n" = 2 ] && pass two-nodes || fail two-nodes "$n node(s): $(flat $out/load.ripmi) dmesg: $(flat $out/dmesg.ripmi)"
grep -q 'sim+1 .*cc=00 id=20' $out/nodes.ripmi && pass first-bmc-answers ||
	fail first-bmc-answers "$(flat $out/nodes.ripmi)"
grep -q 'sim+0 .*cc=00' $out/nodes.ripmi && pass second-bmc-answers ||
	fail second-bmc-answers "$(flat $out/nodes.ripmi)"
# The C stack is the reference for the set-up itself.
[ "$(grep -c '^/dev/ipmi' $out/nodes.c)" = 2 ] && grep -q 'sim+0 .*cc=00' $out/nodes.c &&
	pass c-reference-two-bmcs || fail c-reference-two-bmcs "$(flat $out/nodes.c)"
