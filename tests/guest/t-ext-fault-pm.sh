#!/bin/sh
# System suspend against a misbehaving BMC and under traffic (scripts/vm --bmc extern), with
# "echo devices > /sys/power/pm_test; echo freeze > /sys/power/state" cycles (the runtime-PM and
# flag-matrix tests are t-ext-pm):
#  - a request the BMC takes 5 s to answer (longer than ripmi's 2 s quiesce timeout, and than
#    QEMU's own 4 s limit, so QEMU answers 0xC3 first) is in flight when the suspend starts: the
#    client gets exactly one answer, and the BMC executes the request at most once. Run on the C
#    stack too (it has no PM callbacks: the reference for the answer) and on ripmi;
#  - 100 suspend cycles on ripmi while a client keeps 3 requests in flight (Get Chassis Status,
#    counted by the BMC) and a loop injects commands for its registered receiver: every request
#    answered once and executed once by the BMC, every command delivered once.
# A kernel splat fails the run (scripts/vm checks the log).
pass() { echo "RIPMI-RESULT pass fault-pm/$1"; }
fail() { echo "RIPMI-RESULT fail fault-pm/$1: $2"; }
out=/tmp/fault-pm
rm -rf $out
mkdir -p $out
D=/sys/kernel/debug/ripmi-ipmi0
num() { sed -n 's/^ok \{0,1\}//p' | head -n 1; }
executed() { bmcsim-ctl count 00 01 | num; }
now_ms() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}0"; }
wait_dev() {
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
}
irq=1
dmesg | grep -q 'ripmi.*: /dev/ipmi0 ready (polled)' && irq=0
rescue="bmcsim-ctl fault none"
[ $irq = 1 ] && rescue="bmcsim-ctl ctrl 05; $rescue"
delay_param=/sys/module/suspend/parameters/pm_test_delay
old_delay=
if [ -w $delay_param ]; then
	old_delay=$(cat $delay_param)
	echo "# pm_test_delay was $old_delay s, now 0"
	echo 0 >$delay_param
fi
echo devices >/sys/power/pm_test
read -r begin _ </proc/uptime

echo 1 >/sys/power/pm_print_times
# The kernel-log time (ms) of the last line matching $1, empty if none.
klog_ms() {
	dmesg | grep -a "$1" | tail -n 1 | sed -n 's/^\[ *\([0-9]*\)\.\([0-9][0-9][0-9]\).*/\1\2/p'
}

# 1. A request in flight for 5 s when the suspend starts. ripmi's quiesce gives up on it only
# if its suspend callback starts less than 2 s after the request reached the BMC (QEMU answers
# 0xC3 at 4 s): the freeze starts right after the request, and the attempt is repeated (up to
# 3 times) if the callback came too late to see the abort.
for s in c ripmi; do
	use-stack $s || { fail "$s/load" "use-stack $s failed"; continue; }
	wait_dev
	bmcsim-ctl flush >/dev/null
	attempt=0
	while [ $attempt -lt 3 ]; do
		attempt=$((attempt + 1))
		e0=$(executed)
		r0=$(sed -n 's/^requeued //p' $D/pm 2>/dev/null)
		bmcsim-ctl fault delay 5000 count=1 cmd=00:01 >/dev/null
		dmesg -c >/dev/null
		fault-send -w 20000 -x 2000 -r "$rescue" 00 01 >$out/long.$s 2>&1 &
		client=$!
		sleep 0.1
		t0=$(now_ms)
		echo freeze >/sys/power/state
		echo "freeze_rc=$? freeze_ms=$(($(now_ms) - t0))" >$out/freeze.$s
		# From the request (fault-send's line in the kernel log) to ripmi's suspend callback.
		cb=$(klog_ms 'IPI0001:00: PM: calling acpi_subsys_suspend ')
		at=$(klog_ms 'fault-send: 1 request(s) sent')
		wait $client
		# The late answer must be out before anything else is asked of QEMU (t-ext-fault-bmc).
		bmcsim-ctl wait idle 10000 >/dev/null
		bmcsim-ctl fault none >/dev/null
		echo "executed=$(($(executed) - e0))" >>$out/long.$s
		lag=
		[ -n "$cb" ] && [ -n "$at" ] && lag=$((cb - at))
		requeued=$(($(sed -n 's/^requeued //p' $D/pm 2>/dev/null || echo 0) - ${r0:-0}))
		echo "# $s attempt $attempt: $(grep '^summary' $out/long.$s) $(cat $out/freeze.$s) $(grep '^executed' $out/long.$s) suspend-callback-after=${lag:--}ms requeued=$requeued"
		fault-send -w 10000 -x 0 -r "$rescue" 06 01 >$out/long-after.$s 2>&1
		# C has no callback: one attempt. ripmi: again if the callback came after 1.8 s.
		[ $s = c ] && break
		[ -n "$lag" ] && [ "$lag" -lt 1800 ] && break
	done
	echo "lag=${lag:-}" >>$out/long.$s
done
for s in c ripmi; do
	sum=$(grep '^summary' $out/long.$s)
	ex=$(sed -n 's/^executed=//p' $out/long.$s)
	one=no
	echo "$sum" | grep -Eq '^summary sent=1 answered=1 dup=0 unknown=0 events=0 rescued=0 ' && one=yes
	after=no
	grep -Eq '^summary sent=1 answered=1 dup=0 unknown=0 events=[0-9]+ rescued=0 .* ccs=00$' $out/long-after.$s && after=yes
	if [ $s = c ]; then
		echo "# C reference fault-pm/long-request: one-answer=$one executed=$ex after=$after ($sum)"
		continue
	fi
	[ $one = yes ] && pass long-request/exactly-one-answer ||
		fail long-request/exactly-one-answer "$(grep -v '^executed' $out/long.$s | tr '\n' '|')"
	[ -n "$ex" ] && [ "$ex" -le 1 ] && pass long-request/bmc-executed-it-at-most-once ||
		fail long-request/bmc-executed-it-at-most-once "the BMC executed it $ex times (C: $(sed -n 's/^executed=//p' $out/long.c))"
	[ $after = yes ] && pass long-request/works-after-resume ||
		fail long-request/works-after-resume "$(tr '\n' '|' <$out/long-after.$s)"
	grep -q '^freeze_rc=0 ' $out/freeze.$s && pass long-request/suspend-succeeded ||
		fail long-request/suspend-succeeded "$(cat $out/freeze.$s)"
	lag=$(sed -n 's/^lag=//p' $out/long.$s)
	[ -n "$lag" ] && [ "$lag" -lt 1800 ] && pass long-request/suspend-began-while-the-request-was-young ||
		fail long-request/suspend-began-while-the-request-was-young "suspend callback ${lag:-?} ms after the request in 3 attempts: the quiesce timeout was not exercised"
done

# 2. 100 suspend cycles under traffic, on ripmi.
use-stack ripmi || fail load "use-stack ripmi failed"
wait_dev
bmcsim-ctl flush >/dev/null
e0=$(executed)
s0=$(sed -n 's/^suspend //p' $D/pm)
rm -f $out/stop
pm-load 3 $out/stop 00 01 >$out/load.out 2>&1 &
loader=$!
sleep 1
# The simulator injects the numbered commands on its own timer: the guest's serial line to
# the simulator is not usable while devices suspend.
bmcsim-ctl inject 0 40 30 5 every=200 serial=1 >/dev/null
c0=$(sed -n 's/^complete //p' $D/pm)
dc0=$(sed -n 's/^direct_complete //p' $D/pm)
t0=$(now_ms)
ok=0
for i in $(seq 1 100); do
	echo freeze >/sys/power/state && ok=$((ok + 1))
done
t1=$(now_ms)
bmcsim-ctl unschedule | num >$out/injected
cat $out/injected >$out/stop
wait $loader
lrc=$?
bmcsim-ctl wait drained 5000 >/dev/null
ex=$(($(executed) - e0))
sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' $out/load.out)
susp=$(($(sed -n 's/^suspend //p' $D/pm) - s0))
comp=$(($(sed -n 's/^complete //p' $D/pm) - c0))
dc=$(($(sed -n 's/^direct_complete //p' $D/pm) - dc0))
echo "# 100 cycles: $((t1 - t0)) ms ($(((t1 - t0) / 100)) ms per cycle), $(cat $out/load.out), injected $(cat $out/injected), executed $ex, suspend callbacks $susp, complete $comp, direct-complete $dc"
[ $ok = 100 ] && pass cycles/100-suspends-succeeded || fail cycles/100-suspends-succeeded "$ok of 100"
# Each cycle either suspended the device or skipped it by direct-complete (idle at prepare).
[ $comp = 100 ] && [ $((susp + dc)) = 100 ] && pass cycles/suspend-or-direct-complete-each-cycle ||
	fail cycles/suspend-or-direct-complete-each-cycle "complete $comp, suspend $susp, direct-complete $dc"
[ $lrc = 0 ] && pass cycles/every-request-answered-once-every-command-delivered-once ||
	fail cycles/every-request-answered-once-every-command-delivered-once "$(cat $out/load.out)"
[ -n "$sent" ] && [ "$ex" = "$sent" ] && pass cycles/bmc-executed-each-request-once ||
	fail cycles/bmc-executed-each-request-once "client sent $sent, the BMC executed $ex"
[ "$(cat $out/injected)" -ge 100 ] && pass cycles/commands-injected ||
	fail cycles/commands-injected "only $(cat $out/injected) commands injected"
echo none >/sys/power/pm_test
read -r end _ </proc/uptime
echo "# t-ext-fault-pm: ${end%.*} - ${begin%.*} = $((${end%.*} - ${begin%.*})) s"
[ -n "$old_delay" ] && echo "$old_delay" >$delay_param
use-stack ripmi
