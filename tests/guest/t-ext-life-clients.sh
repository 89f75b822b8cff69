#!/bin/sh
# Clients that go away with requests in flight at a slow BMC (ripmi's simulator, 'fault delay'),
# on the C stack and on ripmi in one boot (life-client does the client side):
#  - one client sends a system-interface request (Get Device ID), an IPMB request through Send
#    Message (channel 0 to the simulator's loopback controller 0x40) or a LAN request (channel 1,
#    never answered), then close()s its file or is SIGKILLed while the BMC holds the request;
#  - receivers that owe a response: exit with the command still queued, exit after reading it
#    (then another process answers it from its own file), answer and close at once while the
#    answer is at the slow BMC;
#  - 20 processes at once doing all of it while the BMC answers every request 100 ms late.
# After each: close/exit took bounded time, a fresh Get Device ID works, and the BMC's counts
# say each request reached it at most once (exactly once when it was at the BMC already), with
# no retransmission after the client went away. Splats fail the VM run (scripts/vm).
T=ext-life-clients
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
# Process creation is slow in the debug VM (a fork can take 100 ms and more under load): the
# helpers avoid it where they can (NOW from /proc/uptime with shell builtins, one life-ctl call
# for all the BMC's counts).
now() { read -r _up _ </proc/uptime; _fr=${_up#*.}; NOW=$((${_up%.*} * 1000 + ${_fr#0} * 10)); }
flat() { tr '\n' '|' <"$1" | head -c 400; }
# counts: "gdi=N sm=M ch0=A ch1=B": Get Device ID and Send Message counts, Send Messages recorded
# per channel since the last clear.
counts() { life-ctl counts; }
# kv PREFIX "k=v ...": sets PREFIX_k for each pair.
kv() {
	p=$1; shift
	for w in $*; do case $w in *=*) eval "${p}_$w" ;; esac; done
}
# delta "before" "after": the differences, as "gdi=.. sm=.. ch0=.. ch1=..".
delta() {
	kv b $1; kv a $2
	echo "gdi=$((a_gdi - b_gdi)) sm=$((a_sm - b_sm)) ch0=$((a_ch0 - b_ch0)) ch1=$((a_ch1 - b_ch1))"
}
recovers() { # file: a fresh Get Device ID, answered with cc 0
	life-client send si 1 wait 10000 >"$1" 2>&1 && grep -q 'cc=00' "$1"
}

# One client with one request of KIND that goes away (HOW: close or kill) while the BMC delays
# the request 1 s. Writes $out/one-KIND-HOW.STACK: the client's output, then "counts-delta ...",
# "gone-ms=" (close or kill until reaped) and "recovered yes|no".
one() { # kind how
	k=$1 h=$2 f=$out/one-$1-$2.$s
	bmcsim-ctl clear >/dev/null
	before=$(counts)
	bmcsim-ctl fault delay 1000 count=1 >/dev/null
	if [ "$h" = close ]; then
		LIFE_HOLD_MS=300 life-client send "$k" 1 close >"$f" 2>&1
		gone=$(sed -n 's/^closed rc=0 ms=//p' "$f")
	else
		life-client send "$k" 1 hang >"$f" 2>&1 &
		pid=$!
		i=0 l=
		while [ "$l" != "sent 1" ] && [ $i -lt 100 ]; do
			sleep 0.1; read -r l <"$f"; i=$((i + 1))
		done
		sleep 0.3
		now; t=$NOW
		kill -9 $pid
		wait $pid 2>/dev/null
		now; gone=$((NOW - t))
	fi
	# Let the delayed answer arrive (and a loopback response be fetched) and, for LAN, give a
	# retransmission (2 s retry time) the chance to show.
	sleep 1.2
	[ "$k" = lan ] && sleep 2
	bmcsim-ctl wait drained 3000 >/dev/null
	after=$(counts)
	bmcsim-ctl fault none >/dev/null
	echo "counts-delta $(delta "$before" "$after")" >>"$f"
	echo "gone-ms=${gone:-none}" >>"$f"
	if recovers $f.rec; then echo "recovered yes" >>"$f"; else echo "recovered no" >>"$f"; fi
}

# Receivers on channel 0 for 30/05, commands injected from 0x40.
INJ="bmcsim-ctl inject 0 40 30 5 01 02 seq=9 >/dev/null"
receivers() {
	# R1: exits with the command queued, unread; then the command again, now unregistered.
	bmcsim-ctl clear >/dev/null
	life-client recv 0 30 5 exit-unread "$INJ" >$out/r1.$s 2>&1
	sleep 0.5
	bmcsim-ctl sent | grep -v '^ok' >$out/r1-sent.$s
	bmcsim-ctl clear >/dev/null
	bmcsim-ctl inject 0 40 30 5 01 02 seq=10 >/dev/null # hex: rqSeq 0x10
	bmcsim-ctl wait sent 1 3000 >/dev/null
	bmcsim-ctl sent | grep -v '^ok' >$out/r1-after.$s
	# R2: reads it, exits unanswered; R3: another process answers it from its own file.
	bmcsim-ctl clear >/dev/null
	life-client recv 0 30 5 exit-unanswered "$INJ" >$out/r2.$s 2>&1
	sleep 0.5
	bmcsim-ctl sent | grep -v '^ok' >$out/r2-sent.$s
	addr=$(sed -n 's/^cmd addr=\([0-9a-f]*\) .*/\1/p' $out/r2.$s)
	msgid=$(sed -n 's/^cmd .* msgid=\([0-9]*\) .*/\1/p' $out/r2.$s)
	life-client respond "${addr:-00}" "${msgid:-0}" 30 5 >$out/r3.$s 2>&1
	bmcsim-ctl wait sent 1 3000 >/dev/null
	bmcsim-ctl sent | grep -v '^ok' >$out/r3-sent.$s
	# R4: answers and closes at once while the BMC holds the answer's Send Message 1 s.
	bmcsim-ctl clear >/dev/null
	life-client recv 0 30 5 answer-close \
		"$INJ; sleep 0.5; bmcsim-ctl fault delay 1000 count=1 >/dev/null" >$out/r4.$s 2>&1
	sleep 1.5
	bmcsim-ctl fault none >/dev/null
	bmcsim-ctl sent | grep -v '^ok' >$out/r4-sent.$s
	if recovers $out/r4.rec.$s; then echo yes; else echo no; fi >$out/r-recovered.$s
}

# 20 processes, each with a Get Device ID, an IPMB and a LAN request, while the BMC answers
# every request 100 ms late: 5 close after 200 ms, 5 are SIGKILLed after 500 ms, 5 exit at once,
# 5 wait for their answers (LAN with retries 0, 1 s: it ends with an error completion code).
# The 60 requests queue for ~6 s at the KCS, so a bridged answer can come later than the default
# 2 s retry time and the request is legitimately sent again (C and ripmi both did, now and then):
# with the retry time at 30 s for this step (longer than the whole step), a second Send Message
# can only be a bug.
many() {
	case $s in c) rp=/sys/module/ipmi_msghandler/parameters/default_retry_ms ;;
	*) rp=/sys/module/ripmi/parameters/default_retry_ms ;; esac
	retry_ms=$(cat $rp) && echo 30000 >$rp || fail "many-retry-param-$s" "cannot set $rp"
	bmcsim-ctl clear >/dev/null
	before=$(counts)
	bmcsim-ctl fault delay 100 >/dev/null
	rm -f $out/many-*.$s
	pids= kills=
	now; t0=$NOW
	for i in $(seq 1 20); do
		f=$out/many-$i.$s
		case $((i % 4)) in
		0) LIFE_HOLD_MS=200 life-client send si,ipmb,lan 3 close >$f 2>&1 & pids="$pids $!" ;;
		1) life-client send si,ipmb,lan 3 hang >$f 2>&1 & kills="$kills $!" ;;
		2) life-client send si,ipmb,lan 3 exit >$f 2>&1 & pids="$pids $!" ;;
		3) LIFE_RETRIES=0 LIFE_TIMEOUT_MS=1000 life-client send si,ipmb,lan 3 wait 30000 >$f 2>&1 &
			pids="$pids $!" ;;
		esac
	done
	sleep 0.5
	for p in $kills; do kill -9 $p; done
	# Everything must end within 40 s.
	left=$pids$kills
	while now && [ $((NOW - t0)) -lt 40000 ]; do
		still=
		for p in $left; do kill -0 $p 2>/dev/null && still="$still $p"; done
		left=$still
		[ -z "$left" ] && break
		sleep 0.2
	done
	set -- $left
	now; echo "left=$# ms=$((NOW - t0))" >$out/many-end.$s
	for p in $pids $kills; do wait $p 2>/dev/null; done
	# Let the slow BMC work through what is still queued, then stop delaying.
	i=0 a=$(counts)
	while [ $i -lt 30 ]; do
		sleep 0.5; b=$(counts)
		[ "$a" = "$b" ] && break; a=$b i=$((i + 1))
	done
	bmcsim-ctl wait drained 3000 >/dev/null
	after=$(counts)
	bmcsim-ctl fault none >/dev/null
	delta "$before" "$after" >$out/many-counts.$s
	cat $out/many-*.$s | grep -h '^done' >$out/many-done.$s
	if recovers $out/many.rec.$s; then echo yes; else echo no; fi >$out/many-recovered.$s
	echo "$retry_ms" >$rp
}

# Progress and raw results go out as they happen, so a run that crashes the kernel still shows
# what C did and how far ripmi got.
step() { now; echo "# $T: $((NOW - t_start)) ms: $*"; }
now; t_start=$NOW
for s in ${LIFE_STACKS:-c ripmi}; do
	use-stack $s || { fail "load-$s" "could not load"; continue; }
	sleep 1
	for k in lan si ipmb; do
		for h in close kill; do
			step "$s $k $h"
			one $k $h
			step "$s $k $h: $(flat $out/one-$k-$h.$s)"
		done
	done
	step "$s receivers"
	receivers
	for r in r1 r1-sent r1-after r2 r2-sent r3 r3-sent r4 r4-sent r-recovered; do
		step "$s $r: $(flat $out/$r.$s)"
	done
	step "$s 20 processes"
	many
	step "$s many: $(cat $out/many-end.$s) $(cat $out/many-counts.$s) recovered $(cat $out/many-recovered.$s)"
done
use-stack ripmi

# Checks on ripmi (each printed with C's result for comparison).
for k in lan si ipmb; do
	for h in close kill; do
		f=$out/one-$k-$h.ripmi n=$k-$h-at-slow-bmc
		d=$(sed -n 's/^counts-delta //p' $f) g=$(sed -n 's/^gone-ms=//p' $f)
		case $k in
		si) want="gdi=1 sm=0 ch0=0 ch1=0" ;;
		ipmb) want="gdi=0 sm=1 ch0=1 ch1=0" ;; # the simulator records loopback ones too
		lan) want="gdi=0 sm=1 ch0=0 ch1=1" ;;
		esac
		ok=1 why=
		[ "$d" = "$want" ] || { ok=0; why="BMC counts $d, want $want;"; }
		case $g in '' | none) ok=0; why="$why client did not go away;" ;;
		*) [ "$g" -le 2000 ] || { ok=0; why="$why took $g ms to go away;"; } ;; esac
		grep -q 'recovered yes' $f || { ok=0; why="$why no Get Device ID afterwards: $(flat $f.rec);"; }
		[ $ok = 1 ] && pass "$n" || fail "$n" "$why ripmi: $(flat $f) C: $(flat $out/one-$k-$h.c)"
	done
done

[ ! -s $out/r1-sent.ripmi ] && grep -q 'queued' $out/r1.ripmi && pass rcvr-exit-unread-no-answer ||
	fail rcvr-exit-unread-no-answer "client: $(flat $out/r1.ripmi) sent: $(flat $out/r1-sent.ripmi)"
grep -qx '0 00 40 c4 fc 20 42 05 c1 d8' $out/r1-after.ripmi && pass rcvr-gone-then-c1 ||
	fail rcvr-gone-then-c1 "sent: $(flat $out/r1-after.ripmi)"
[ ! -s $out/r2-sent.ripmi ] && grep -q '^cmd ' $out/r2.ripmi && pass rcvr-exit-unanswered-no-answer ||
	fail rcvr-exit-unanswered-no-answer "client: $(flat $out/r2.ripmi) sent: $(flat $out/r2-sent.ripmi)"
grep -q '^rsp: recv_type=4 ' $out/r3.ripmi && [ "$(wc -l <$out/r3-sent.ripmi)" = 1 ] &&
	cmp -s $out/r3-sent.c $out/r3-sent.ripmi && pass rcvr-answered-by-other-process ||
	fail rcvr-answered-by-other-process "ripmi: $(flat $out/r3.ripmi) sent $(flat $out/r3-sent.ripmi) C: $(flat $out/r3.c) sent $(flat $out/r3-sent.c)"
grep -q '^closed rc=0' $out/r4.ripmi && [ "$(wc -l <$out/r4-sent.ripmi)" = 1 ] &&
	cmp -s $out/r4-sent.c $out/r4-sent.ripmi && grep -q yes $out/r-recovered.ripmi &&
	pass rcvr-answer-then-close-at-slow-bmc ||
	fail rcvr-answer-then-close-at-slow-bmc "ripmi: $(flat $out/r4.ripmi) sent $(flat $out/r4-sent.ripmi) recovered $(cat $out/r-recovered.ripmi) C: $(flat $out/r4.c) sent $(flat $out/r4-sent.c)"
for r in r1-sent r1-after r2-sent; do
	cmp -s $out/$r.c $out/$r.ripmi || fail "rcvr-same-as-c-$r" "C: $(flat $out/$r.c) ripmi: $(flat $out/$r.ripmi)"
done

# 20 processes.
e=$(cat $out/many-end.ripmi) c=$(cat $out/many-counts.ripmi)
[ "${e%% *}" = left=0 ] && pass many-all-ended || fail many-all-ended "$e"
waiters=$(grep -c 'answered=3 of 3' $out/many-done.ripmi)
[ "$waiters" = 5 ] && pass many-waiters-answered ||
	fail many-waiters-answered "$(flat $out/many-done.ripmi)"
kv m $c
gdi=${m_gdi:-0} sm=${m_sm:-0} ch1=${m_ch1:-0}
# Each process sent one of each; every waiter's reached the BMC; nothing twice.
[ "$gdi" -ge 5 ] && [ "$gdi" -le 20 ] && [ "$ch1" -ge 5 ] && [ "$ch1" -le 20 ] &&
	[ $((sm - ch1)) -ge 5 ] && [ $((sm - ch1)) -le 20 ] && pass many-bmc-counts ||
	fail many-bmc-counts "ripmi $c (C $(cat $out/many-counts.c))"
grep -q yes $out/many-recovered.ripmi && pass many-recovers ||
	fail many-recovers "$(flat $out/many.rec.ripmi)"
now; echo "# $T: C: many $(cat $out/many-end.c) $(cat $out/many-counts.c); ripmi: $e $c; $((NOW - t_start)) ms"
