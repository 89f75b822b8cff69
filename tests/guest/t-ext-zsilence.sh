#!/bin/sh
# A BMC that stops answering (ripmi's simulator with 'fault silence'), on the C stack and on
# ripmi in one boot: a request must still end with a completion code (QEMU gives up on the BMC
# after 4 s and the KCS answers 0xC3), ipmitool must see that code, and the interface must work
# again once the BMC answers. It runs in a boot of its own (run-guest-tests runs t-ext-z* only
# when named): after some fault sequences QEMU's ipmi-bmc-extern stops forwarding requests for
# the rest of the boot, for both stacks alike (see Documentation/testing.rst).
pass() { echo "RIPMI-RESULT pass ext-silence/$1"; }
fail() { echo "RIPMI-RESULT fail ext-silence/$1: $2"; }
out=/tmp/ext-silence
mkdir -p $out
for s in c ripmi; do
	use-stack $s || exit 1
	sleep 1
	bmcsim-ctl fault silence >/dev/null
	ext-send 06 01 20000 >$out/time.$s 2>&1
	ipmitool -I open raw 6 1 >$out/ipmitool.$s 2>&1
	echo "exit=$?" >>$out/ipmitool.$s
	bmcsim-ctl fault none >/dev/null
	ipmitool -I open mc info >$out/recover.$s 2>&1 || echo "recover failed" >>$out/recover.$s
done
use-stack ripmi
ms=$(sed -n 's/^cc=c3 ms=\([0-9]*\)$/\1/p' $out/time.ripmi)
[ -n "$ms" ] && [ "$ms" -le 8000 ] && pass request-ends-with-c3 ||
	fail request-ends-with-c3 "$(tr '\n' '|' <$out/time.ripmi)"
grep -q 'rsp=0xc3' $out/ipmitool.ripmi && pass ipmitool-sees-c3 ||
	fail ipmitool-sees-c3 "$(tr '\n' '|' <$out/ipmitool.ripmi)"
cmp -s $out/ipmitool.c $out/ipmitool.ripmi && pass same-as-c ||
	fail same-as-c "C: $(tr '\n' '|' <$out/ipmitool.c) ripmi: $(tr '\n' '|' <$out/ipmitool.ripmi)"
grep -Eq '^Device ID +: 32$' $out/recover.ripmi && pass recovers ||
	fail recovers "$(tr '\n' '|' <$out/recover.ripmi)"
