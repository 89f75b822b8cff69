#!/bin/sh
# A flood of incoming commands nobody registered for (channel 0, 30/05 from 0x40), injected as
# fast as the simulator's control link allows (life-ctl flood), while a client does Get Device ID
# round trips one after another (life-client loop); on the C stack and on ripmi in one boot.
#  - every command is answered 0xC1 through Send Message or counted as dropped by the driver:
#    BMC sent answers + ripmi's unhandled_dropped + dropped == injected (C has no drop counter;
#    its numbers are printed), and ripmi's debugfs stats/channels agree;
#  - what the driver holds stays bounded: the largest backlog (fetched with Get Message but not
#    yet answered, from the simulator's counters during the flood) and the Slab growth;
#  - the client's round trips keep working with bounded latency (max printed).
# FLOOD_N commands per stack: 20,000 with an IRQ, 4,000 in the polled boot (to save CI time);
# they are injected 50 at a time (the simulator's inject count=).
T=ext-life-flood
. /ripmi/config
if [ "${RIPMI_BMC_IRQ:-5}" = 0 ]; then FLOOD_N=${FLOOD_N:-4000}; else FLOOD_N=${FLOOD_N:-20000}; fi
# Fetched but neither answered nor counted dropped: a bounded driver holds a few dozen at most
# (main's ripmi keeps at most 16 0xC1 answers queued and drops the rest, counted).
BACKLOG_MAX=128
LATENCY_MAX_MS=3000
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
now() { read -r _up _ </proc/uptime; _fr=${_up#*.}; NOW=$((${_up%.*} * 1000 + ${_fr#0} * 10)); }
flat() { tr '\n' '|' <"$1" | head -c 500; }
# st PREFIX: the simulator's counters as PREFIX_key variables (one process, see t-ext-life-clients).
st() { for w in $(life-ctl stats); do case $w in *=*) eval "$1_$w" ;; esac; done; }
slab() { sed -n 's/^Slab: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
dbg=/sys/kernel/debug/ripmi-ipmi0
rstat() { v=; [ -r $dbg/stats ] && v=$(sed -n "s/^$1 //p" $dbg/stats); echo ${v:-0}; }
rchan0() { [ -r $dbg/channels ] && awk '$1 == "0" {print $3, $5, $6}' $dbg/channels || echo "0 0 0"; }

flood() { # stack
	s=$1
	use-stack $s || { fail "load-$s" "could not load"; return 1; }
	sleep 1
	bmcsim-ctl flush >/dev/null
	st s0
	unh0=$(rstat unhandled_commands) drop0=$(($(rstat unhandled_dropped) + $(rstat dropped))) ch0=$(rchan0)
	slab0=$(slab)
	rm -f /tmp/flood-stop
	life-client loop /tmp/flood-stop 10000 >$out/loop.$s 2>&1 &
	lp=$!
	(while [ ! -f /tmp/flood-stop ]; do slab; sleep 1; done) >$out/slab.$s &
	sp=$!
	now; t=$NOW
	life-ctl flood $FLOOD_N >$out/flood.$s 2>&1
	now; echo "inject-ms=$((NOW - t))" >>$out/flood.$s
	# Let the driver answer everything it fetched: the queue empty and 'sent' still for 2 s.
	bmcsim-ctl wait drained 120000 >/dev/null
	prev=-1 i=0
	while [ $i -lt 120 ]; do
		st c; cur=$c_sent
		[ "$cur" = "$prev" ] && break
		prev=$cur; sleep 2; i=$((i + 1))
	done
	now; echo "drain-ms=$((NOW - t))" >>$out/flood.$s
	touch /tmp/flood-stop
	wait $lp $sp
	slab1=$(slab)
	peak=$(sort -n $out/slab.$s | tail -n 1)
	st s1
	inj=$((s1_injected - s0_injected)) sent=$((s1_sent - s0_sent)) del=$((s1_delivered - s0_delivered))
	unh=$(($(rstat unhandled_commands) - unh0))
	drop=$(($(rstat unhandled_dropped) + $(rstat dropped) - drop0))
	set -- $ch0
	c0r=$1 c0u=$2 c0d=$3
	set -- $(rchan0)
	echo "injected=$inj delivered=$del sent=$sent unhandled=$unh dropped=$drop ch0_received=$(($1 - c0r)) ch0_unhandled=$(($2 - c0u)) ch0_dropped=$(($3 - c0d)) slab_before=$slab0 slab_peak=${peak:-0} slab_after=$slab1" >$out/counts.$s
}

now; t_start=$NOW
flood c
flood ripmi
use-stack ripmi
for s in c ripmi; do
	echo "# $T $s: $(flat $out/flood.$s) $(flat $out/counts.$s) $(flat $out/loop.$s)"
done
get() { tr ' ' '\n' <$out/$1 | sed -n "s/^$2=//p" | head -n 1; }
inj=$(get counts.ripmi injected) sent=$(get counts.ripmi sent) drop=$(get counts.ripmi dropped)
unh=$(get counts.ripmi unhandled) rcv=$(get counts.ripmi ch0_received)
[ "$inj" = "$FLOOD_N" ] && pass all-injected || fail all-injected "$(flat $out/flood.ripmi)"
[ $((sent + drop)) = "$inj" ] && pass answered-plus-dropped-equals-injected ||
	fail answered-plus-dropped-equals-injected "$(flat $out/counts.ripmi)"
# Every command received on channel 0 and counted unhandled (answered or dropped).
[ "$rcv" = "$inj" ] && [ "$unh" = "$inj" ] && pass debugfs-counters-agree ||
	fail debugfs-counters-agree "$(flat $out/counts.ripmi)"
b=$(get flood.ripmi max_backlog)
[ -n "$b" ] && [ "$b" -le $BACKLOG_MAX ] && pass backlog-bounded ||
	fail backlog-bounded "max backlog ${b:-?} > $BACKLOG_MAX (C: $(get flood.c max_backlog)): $(flat $out/flood.ripmi)"
# Slab: KASAN's quarantine makes any churn grow it, so compare with C's growth on the same flood.
cg=$(($(get counts.c slab_peak) - $(get counts.c slab_before)))
rg=$(($(get counts.ripmi slab_peak) - $(get counts.ripmi slab_before)))
[ $rg -le $((cg + 16384)) ] && pass slab-growth-bounded ||
	fail slab-growth-bounded "ripmi Slab grew $rg kB during the flood, C $cg kB"
l=$(sed -n 's/^loop n=\([0-9]*\) fail=\([0-9]*\) max_ms=\([0-9]*\).*/\1 \2 \3/p' $out/loop.ripmi)
set -- $l
[ -n "$l" ] && [ "$1" -gt 0 ] && [ "$2" = 0 ] && [ "$3" -le $LATENCY_MAX_MS ] &&
	pass client-latency-bounded || fail client-latency-bounded "$(flat $out/loop.ripmi) (C: $(flat $out/loop.c))"
life-client send si 1 wait 10000 >$out/rec 2>&1 && grep -q cc=00 $out/rec && pass recovers ||
	fail recovers "$(flat $out/rec)"
now; echo "# $T: $((NOW - t_start)) ms"
