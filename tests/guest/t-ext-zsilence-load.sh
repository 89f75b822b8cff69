#!/bin/sh
# Loading a stack while the BMC does not answer at all ('fault silence' before the load; QEMU's
# ipmi-bmc-extern then answers each request 0xC3 itself after 4 s), on the C stack and on ripmi:
# the load must end in bounded time, either without an interface (probe fails cleanly, as C's
# ipmi_si does) or with one, no splat (scripts/vm), and after 'fault none' a reload must give a
# working /dev/ipmi0. It shares the boot of t-ext-zsilence (the run-guest-tests pattern
# 'zsilence'), as a silent BMC can upset QEMU for the rest of a boot.
T=ext-zsilence-load
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
now() { read -r _up _ </proc/uptime; _fr=${_up#*.}; NOW=$((${_up%.*} * 1000 + ${_fr#0} * 10)); }
flat() { tr '\n' '|' <"$1" | head -c 600; }
LOAD_MAX_MS=60000

for s in c ripmi; do
	use-stack none
	dmesg -c >/dev/null
	bmcsim-ctl fault silence >/dev/null
	now; t=$NOW
	if [ $s = c ]; then
		for m in ipmi_msghandler ipmi_devintf ipmi_si; do
			insmod /lib/modules/c-ipmi/$m.ko || break
		done
	else
		insmod /lib/modules/ripmi.ko
	fi >$out/load.$s 2>&1
	rc=$?; now; echo "rc=$rc ms=$((NOW - t))" >>$out/load.$s
	if [ -c /dev/ipmi0 ]; then echo "node=yes" >>$out/load.$s; else echo "node=no" >>$out/load.$s; fi
	dmesg | grep -iE 'ipmi|kcs' | tail -n 8 >$out/dmesg.$s
	bmcsim-ctl fault none >/dev/null
	use-stack none
	use-stack $s >$out/reload.$s 2>&1
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	life-client send si 1 wait 10000 >>$out/reload.$s 2>&1
done
use-stack ripmi >/dev/null 2>&1

for s in c ripmi; do
	echo "# $T $s: load $(flat $out/load.$s) dmesg $(flat $out/dmesg.$s) reload $(flat $out/reload.$s)"
done
ms=$(sed -n 's/^rc=[0-9]* ms=//p' $out/load.ripmi)
[ -n "$ms" ] && [ "$ms" -le $LOAD_MAX_MS ] && pass load-ends || fail load-ends "$(flat $out/load.ripmi)"
# Whether an interface comes up without a BMC: as C decides.
[ "$(grep '^node=' $out/load.ripmi)" = "$(grep '^node=' $out/load.c)" ] && pass node-same-as-c ||
	fail node-same-as-c "ripmi: $(flat $out/load.ripmi) C: $(flat $out/load.c)"
grep -q 'cc=00' $out/reload.ripmi && pass reload-works || fail reload-works "$(flat $out/reload.ripmi)"
