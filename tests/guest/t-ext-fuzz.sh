#!/bin/sh
# Fuzzes ripmi's /dev/ipmi0 (tests/guest/fuzz-ioctl.c: every ioctl with valid, borderline and
# hostile arguments, open/close/dup/poll/fork from several threads, files closed with requests
# in flight) while the BMC simulator answers at random speeds ('fault delay MS count=N', changed
# every fraction of a second) and injects commands and events; a 32-bit fuzzer (compat_ioctl)
# runs alongside. Afterwards a plain Get Device ID must still work, the kernel log must be clean
# and ripmi must unload.
#
# Knobs (environment, or /ripmi/config through scripts/vm --env): FUZZ_OPS (default 50000: at
# about 1,200 operations/s on the debug kernel under TCG, under a minute),
# FUZZ_THREADS (8), FUZZ_SEED (default: from the clock; printed), FUZZ_TIME (limit in seconds
# for the fuzzer, default 900), FUZZ_STACK (ripmi; 'c' fuzzes the kernel's C stack instead, to
# check the fuzzer's expectations against the reference). run-guest-tests runs this in IRQ boots only unless asked for by
# name (scripts/check: once per check run).
pass() { echo "RIPMI-RESULT pass ext-fuzz/$1"; }
fail() { echo "RIPMI-RESULT fail ext-fuzz/$1: $2"; }
. /ripmi/config
ops=${FUZZ_OPS:-50000}
threads=${FUZZ_THREADS:-8}
seed=${FUZZ_SEED:-$(($(date +%s) % 1000000007))}
limit=${FUZZ_TIME:-900}
stack=${FUZZ_STACK:-ripmi}
out=/tmp/ext-fuzz
mkdir -p $out
rm -f $out/stop

use-stack $stack || { fail load "use-stack $stack failed"; exit 1; }
i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
bmcsim-ctl fault none >/dev/null
bmcsim-ctl flush >/dev/null
bmcsim-ctl clear >/dev/null
dmesg >$out/dmesg.before

# The BMC's speed, from the same seed: delays of 0 to 2.5 s (QEMU itself gives up at 4 s, and
# letting it do so can leave ipmi-bmc-extern unusable for the rest of the boot; see
# Documentation/testing.rst), each for a few requests, now and then an incoming command on
# channel 0 (IPMB) or 1 (LAN) for netfn 0x30 (which the fuzzer registers for), or an event.
awk -v s="$seed" 'BEGIN { srand(s); for (i = 0; i < 20000; i++) {
	r = rand()
	if (r < 0.25) d = 0; else if (r < 0.65) d = int(rand() * 300); else d = 300 + int(rand() * 2200)
	printf "%d %d %d %d %.3f\n", d, 1 + int(rand() * 12), int(rand() * 10), int(rand() * 8), 0.1 + rand() / 2 } }' \
	>$out/plan
(
	exec 3<>/dev/ttyS2
	ask() { echo "$*" >&3; read -r reply <&3; case $reply in ok*) ;; *) echo "bmcsim: $* -> $reply" ;; esac; }
	n=0
	while read -r delay count what cmd pause; do
		[ -e $out/stop ] && break
		if [ "$delay" = 0 ]; then ask fault none; else ask fault delay "$delay" count="$count"; fi
		case $what in
		0) ask inject 0 40 30 "$cmd" 01 02 ;;
		1) ask inject 1 81 30 "$cmd" 03 04 ;;
		2) ask event ;;
		esac
		n=$((n + 1))
		sleep "$pause"
	done <$out/plan
	ask fault none
	echo "bmc-plan: $n speed changes"
) >$out/plan.log 2>&1 &
planner=$!

t0=$(date +%s)
fuzz-ioctl32 -n $((ops / 10)) -j 1 -s $((seed + 1)) -t "$limit" -q >$out/fuzz32 2>&1 &
f32=$!
fuzz-ioctl -n "$ops" -j "$threads" -s "$seed" -t "$limit" >$out/fuzz64 2>&1
rc64=$?
wait $f32
rc32=$?
t1=$(date +%s)
touch $out/stop
wait $planner
bmcsim-ctl fault none >/dev/null
cat $out/fuzz64 $out/fuzz32 $out/plan.log
echo "ext-fuzz: $stack stack, seed $seed, $ops + $((ops / 10)) (32-bit) operations in $((t1 - t0)) s"

sum64=$(grep '^fuzz: [0-9]* operations' $out/fuzz64)
sum32=$(grep '^fuzz: [0-9]* operations' $out/fuzz32)
[ $rc64 = 0 ] && [ -n "$sum64" ] && pass fuzz-64bit ||
	fail fuzz-64bit "exit $rc64: ${sum64:-no summary}; $(grep -m5 -E 'UNEXPECTED|BAD-RESULT|SIGNAL' $out/fuzz64 | tr '\n' '|')"
[ $rc32 = 0 ] && [ -n "$sum32" ] && pass fuzz-32bit-compat ||
	fail fuzz-32bit-compat "exit $rc32: ${sum32:-no summary}; $(grep -m5 -E 'UNEXPECTED|BAD-RESULT|SIGNAL' $out/fuzz32 | tr '\n' '|')"

# The fuzzed interface must still work: everything in flight was answered or dropped.
ext-send 06 01 60000 >$out/after 2>&1
grep -q '^cc=00 ' $out/after && pass get-device-id-after ||
	fail get-device-id-after "$(tr '\n' '|' <$out/after)"
ipmitool -I open mc info >$out/mcinfo 2>&1
grep -Eq '^Device ID +: 32$' $out/mcinfo && pass ipmitool-mc-info-after ||
	fail ipmitool-mc-info-after "$(head -3 $out/mcinfo | tr '\n' '|')"

dmesg >$out/dmesg.after
splat=$(diff $out/dmesg.before $out/dmesg.after | grep -aE '^> .*(BUG:|WARNING:|Oops|KASAN|UBSAN|general protection|possible circular|possible recursive|inconsistent lock|suspicious RCU|stall|blocked for more than|Call Trace:)' | head -5)
[ -z "$splat" ] && pass no-kernel-splat || fail no-kernel-splat "$(echo "$splat" | tr '\n' '|')"

if [ $stack = c ]; then
	unload-c-ipmi && pass unload || fail unload "rmmod of the C stack failed"
elif unload-ripmi && ! grep -q '^ripmi ' /proc/modules; then
	pass unload
else
	fail unload "rmmod ripmi failed"
fi
bmcsim-ctl flush >/dev/null
bmcsim-ctl clear >/dev/null
