#!/bin/sh
# The device going away under its users, on the C stack (ipmi_si) and on ripmi in one boot:
#  - sysfs unbind of the KCS platform device (IPI0001:00) with files open: an idle poller, a
#    poller whose Get Device ID the BMC holds 3 s, a poller with an IPMB request nobody answers,
#    and an idle file that is not polling. Pollers must wake, the old files then (once unbind has
#    returned) fail (ENODEV is what ripmi should say), close works, unbind takes bounded time,
#    and bind brings back a working /dev/ipmi0. C's behaviour is recorded for comparison only:
#    it is not a reference here (its pollers are not woken).
#  - rmmod is refused while a file is open (ripmi; C's ipmi_devintf recorded);
#  - unload right after load, 10 times (ripmi) and 3 times (C), then a working /dev/ipmi0.
# Splats fail the VM run (scripts/vm).
T=ext-life-unbind
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
now() { read -r _up _ </proc/uptime; _fr=${_up#*.}; NOW=$((${_up%.*} * 1000 + ${_fr#0} * 10)); }
flat() { tr '\n' '|' <"$1" | head -c 500; }
recovers() { # file
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	life-client send si 1 wait 10000 >"$1" 2>&1 && grep -q 'cc=00' "$1"
}
POLL_MS=8000

unbind_test() { # stack driver
	s=$1 drv=/sys/bus/platform/drivers/$2
	dev=$(ls $drv | grep '^IPI0001' | head -n 1)
	echo "driver=$2 device=${dev:-none}" >$out/unbind.$s
	[ -n "$dev" ] || return
	rm -f /tmp/unbound
	bmcsim-ctl fault delay 3000 count=1 >/dev/null
	LIFE_AFTER_FILE=/tmp/unbound life-client send si 1 pollwait $POLL_MS >$out/p-inflight.$s 2>&1 &
	p1=$!
	sleep 0.3
	LIFE_AFTER_FILE=/tmp/unbound life-client send none 0 pollwait $POLL_MS >$out/p-idle.$s 2>&1 &
	p2=$!
	LIFE_AFTER_FILE=/tmp/unbound life-client send ipmb-lost 1 pollwait $POLL_MS >$out/p-ipmb.$s 2>&1 &
	p3=$!
	life-client send none 0 waitfile 0 /tmp/unbound >$out/p-file.$s 2>&1 &
	p4=$!
	sleep 0.5
	now; t=$NOW
	echo "$dev" >$drv/unbind
	rc=$?; now; echo "unbind rc=$rc ms=$((NOW - t))" >>$out/unbind.$s
	[ -e /dev/ipmi0 ] && echo "node still there" >>$out/unbind.$s
	touch /tmp/unbound
	for p in $p1 $p2 $p3 $p4; do wait $p; done
	now; echo "clients done ms=$((NOW - t))" >>$out/unbind.$s
	bmcsim-ctl fault none >/dev/null
	now; t=$NOW
	echo "$dev" >$drv/bind
	rc=$?; now; echo "bind rc=$rc ms=$((NOW - t))" >>$out/unbind.$s
	if recovers $out/rebind.$s; then echo "rebind works" >>$out/unbind.$s; fi
}

rmmod_test() { # stack module
	life-client send none 0 hang >$out/holder.$1 2>&1 &
	h=$!
	sleep 0.3
	rmmod "$2" >$out/rmmod.$1 2>&1
	echo "rc=$?" >>$out/rmmod.$1
	grep "^$2 " /proc/modules >>$out/rmmod.$1
	kill -9 $h
	wait $h 2>/dev/null
}

cycle_test() { # stack times
	: >$out/cycle.$1
	for i in $(seq 1 $2); do
		now; t=$NOW
		use-stack $1 >>$out/cycle.$1 2>&1 || echo "load $i failed" >>$out/cycle.$1
		use-stack none >>$out/cycle.$1 2>&1 || echo "unload $i failed" >>$out/cycle.$1
		now; echo "cycle $i ms=$((NOW - t))" >>$out/cycle.$1
	done
	use-stack $1 && recovers $out/cycle-rec.$1 && echo "recovered" >>$out/cycle.$1
}

now; t_start=$NOW
for s in c ripmi; do
	use-stack $s || { fail "load-$s" "could not load"; continue; }
	sleep 1
	if [ $s = c ]; then unbind_test c ipmi_si; else unbind_test ripmi ripmi; fi
	if [ $s = c ]; then rmmod_test c ipmi_devintf; else rmmod_test ripmi ripmi; fi
	if [ $s = c ]; then cycle_test c 3; else cycle_test ripmi 10; fi
done
use-stack ripmi

for f in unbind p-inflight p-idle p-ipmb p-file rmmod cycle; do
	echo "# C $f: $(flat $out/$f.c)"
done
u=$out/unbind.ripmi
grep -q 'device=IPI0001' $u && pass unbind-found-device || fail unbind-found-device "$(flat $u)"
ms=$(sed -n 's/^unbind rc=0 ms=//p' $u)
[ -n "$ms" ] && [ "$ms" -le 6000 ] && pass unbind-bounded-time || fail unbind-bounded-time "$(flat $u)"
grep -q 'node still there' $u && fail unbind-removes-node "$(flat $u)" || pass unbind-removes-node
for p in p-inflight p-idle p-ipmb; do
	f=$out/$p.ripmi
	w=$(sed -n 's/^woke rc=1 revents=0x[0-9a-f]* ms=//p' $f)
	[ -n "$w" ] && [ "$w" -lt $POLL_MS ] && pass "$p-poller-wakes" || fail "$p-poller-wakes" "$(flat $f)"
done
for p in p-inflight p-idle p-ipmb p-file; do
	f=$out/$p.ripmi
	grep -q '^recv rc=-1 errno=ENODEV' $f && grep -q '^send rc=-1 errno=ENODEV' $f &&
		grep -q '^closed rc=0' $f && pass "$p-enodev-then-close" || fail "$p-enodev-then-close" "$(flat $f)"
done
grep -q '^rebind works' $u && pass rebind-works || fail rebind-works "$(flat $u) $(flat $out/rebind.ripmi)"
grep -q '^rc=0' $out/rmmod.ripmi && fail rmmod-refused-while-open "$(flat $out/rmmod.ripmi)" ||
	pass rmmod-refused-while-open
n=$(grep -c '^cycle .* ms=' $out/cycle.ripmi)
grep -q failed $out/cycle.ripmi || [ "$n" != 10 ] || ! grep -q recovered $out/cycle.ripmi &&
	fail load-unload-10-times "$(flat $out/cycle.ripmi)" || pass load-unload-10-times
now; echo "# $T: ripmi cycles $(grep -o 'ms=[0-9]*' $out/cycle.ripmi | tr '\n' ' '); $((NOW - t_start)) ms"
