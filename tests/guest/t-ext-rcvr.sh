#!/bin/sh
# Per-channel command receivers against ripmi's BMC simulator, with every channel 0-15 given a
# medium (even IPMB, odd 802.3 LAN):
#  - rules and routing matrix (ext-rcvr rules / route) run on the C stack and on ripmi in the
#    same boot; what each user received and the 0xC1 answers the BMC saw are compared byte for
#    byte, and checked against fixed expectations on ripmi;
#  - stress (ripmi only): processes of threads register and unregister random (cmd, mask) while
#    commands are flooded on random channels; every command must be delivered once to a user that
#    had registered it, or answered 0xC1, and ripmi's per-channel counters must agree.
pass() { echo "RIPMI-RESULT pass ext-rcvr/$1"; }
fail() { echo "RIPMI-RESULT fail ext-rcvr/$1: $2"; }
out=/tmp/ext-rcvr
mkdir -p $out
load() { # stack
	use-stack $1 || return 1
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
}

use-stack none
# Channel 14 is "this channel" (the simulator answers with channel 15's data): left alone.
for ch in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 15; do
	if [ $((ch % 2)) = 0 ]; then m=ipmb; else m=lan; fi
	bmcsim-ctl media $ch $m >/dev/null || fail media "channel $ch"
done

for s in c ripmi; do
	load $s || { fail "load-$s" "could not load"; continue; }
	bmcsim-ctl clear >/dev/null
	ext-rcvr rules >$out/rules.$s 2>&1
	bmcsim-ctl wait sent 1 3000 >/dev/null
	bmcsim-ctl sent | grep -v '^ok' >$out/rules-sent.$s
	bmcsim-ctl clear >/dev/null
	ext-rcvr route >$out/route.$s 2>&1
	bmcsim-ctl wait sent 36 5000 >/dev/null
	bmcsim-ctl sent | grep -v '^ok' >$out/route-sent.$s
done

same() { # name file
	if [ -s $out/$2.c ] && cmp -s $out/$2.c $out/$2.ripmi; then
		pass "$1"
	else
		fail "$1" "$(diff $out/$2.c $out/$2.ripmi | head -20 | tr '\n' '|')"
	fi
}
expect() { # name file pattern...
	n=$1; f=$2; shift 2
	for p in "$@"; do
		grep -qx -- "$p" $out/$f.ripmi || { fail "$n" "missing '$p' in: $(tr '\n' '|' <$out/$f.ripmi)"; return; }
	done
	pass "$n"
}
# Absolute checks on ripmi.
rule() { # label result: one line of ext-rcvr rules on ripmi
	grep -qxF -- "$(printf '%-44s %s' "$1" "$2")" $out/rules.ripmi ||
		{ rules_ok=0; fail rules-errnos "'$1' is not $2: $(grep -F -- "$1" $out/rules.ripmi)"; }
}
rules_ok=1
rule 'A reg 30/1 0x6' 0
rule 'B reg 30/1 0x4 (overlap other)' EBUSY
rule 'A reg 30/1 0x2 (overlap own)' EBUSY
rule 'B reg 30/1 0x10001 (high bit overlap)' EBUSY
rule 'A legacy reg 30/1' EBUSY
rule 'B unreg 30/1 0x2 (not B'"'"'s)' ENOENT
rule 'A unreg 30/1 0x2 (partial)' 0
rule 'A unreg 30/1 0x2 (again)' ENOENT
rule 'B reg 30/1 0x2 (freed by partial)' 0
rule 'A unreg 30/2 0xffff (zombie)' 0
rule 'A legacy reg 30/2 (zombie busy)' EBUSY
rule 'B reg 30/2 0x1 (zombie frees chans)' 0
rule 'A legacy unreg 30/2 (zombie unreachable)' ENOENT
rule 'B reg 30/2 0x80000000 (zombie bits)' EBUSY
rule 'A reg 30/3 0 (empty mask)' 0
rule 'A unreg 30/3 0x1 (empty mask)' ENOENT
rule 'C reg 30/2 0xfffe0000 after close' 0
rule 'C reg 30/1 0xc after close' 0
[ $rules_ok = 1 ] && pass rules-errnos
expect rules-routing rules \
	'A type=3 chan=2 netfn=30 cmd=01 data=0212' 'A type=3 chan=3 netfn=30 cmd=01 data=0313' \
	'B type=3 chan=1 netfn=30 cmd=01 data=0111' 'B type=3 chan=0 netfn=30 cmd=02 data=0020' \
	'B type=3 chan=7 netfn=30 cmd=03 data=0730' 'C type=3 chan=3 netfn=30 cmd=01 data=0340'
# Channel 0 of 30/1 and channel 1 of 30/2 have no receiver: 0xC1, nothing else.
if [ "$(wc -l <$out/rules-sent.ripmi)" = 2 ] && grep -q '^0 00 40 c4 fc 20 .. 01 c1 ..$' $out/rules-sent.ripmi &&
	grep -q '^1 01 .* 02 c1 ..$' $out/rules-sent.ripmi; then
	pass rules-unhandled-c1
else
	fail rules-unhandled-c1 "$(tr '\n' '|' <$out/rules-sent.ripmi)"
fi
# Routing matrix: 30/10 ch 0-3,13 u0, 4-7 u1, 8-11 u2, 12,14,15 none; 30/11 u3 everywhere;
# 30/12 even u1, odd u2; 2e/10 ch 0,15 u3.
ok=1
for ch in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 15; do
	hx=$(printf %02x $ch)
	case $ch in 0|1|2|3|13) w=u0 ;; 4|5|6|7) w=u1 ;; 8|9|10|11) w=u2 ;; *) w=none ;; esac
	n=$(grep -c " chan=$ch netfn=30 cmd=10 data=${hx}01$" $out/route.ripmi)
	if [ $w = none ]; then
		[ "$n" = 0 ] || ok=0
		grep -q "^$ch ${hx} .* 10 c1 ..\$" $out/route-sent.ripmi || { ok=0; echo "no c1 on $ch"; }
	else
		grep -qx "$w type=3 chan=$ch netfn=30 cmd=10 data=${hx}01" $out/route.ripmi && [ "$n" = 1 ] || { ok=0; echo "30/10 ch $ch not to $w"; }
	fi
	grep -qx "u3 type=3 chan=$ch netfn=30 cmd=11 data=${hx}02" $out/route.ripmi || { ok=0; echo "30/11 ch $ch"; }
	if [ $((ch % 2)) = 0 ]; then w=u1; else w=u2; fi
	grep -qx "$w type=3 chan=$ch netfn=30 cmd=12 data=${hx}03" $out/route.ripmi || { ok=0; echo "30/12 ch $ch"; }
	case $ch in 0|15) grep -qx "u3 type=3 chan=$ch netfn=2e cmd=10 data=${hx}04" $out/route.ripmi || { ok=0; echo "2e/10 ch $ch"; } ;;
	*) grep -q "^$ch ${hx} .* 10 c1 ..\$" $out/route-sent.ripmi || { ok=0; echo "2e/10 no c1 ch $ch"; } ;; esac
done >$out/route-check
n=$(grep -c 'type=3' $out/route.ripmi); c1=$(wc -l <$out/route-sent.ripmi)
grep -q ' chan=14 ' $out/route.ripmi && { ok=0; echo "delivered on channel 14 (system medium)" >>$out/route-check; }
[ $ok = 1 ] && [ "$n" = 45 ] && [ "$c1" = 19 ] && pass routing-matrix ||
	fail routing-matrix "delivered $n (want 45), c1 $c1 (want 19: 15 plus the 4 answers on channel 14, which the simulator gives the system medium and both stacks answer alike): $(tr '\n' '|' <$out/route-check) sent: $(tr '\n' '|' <$out/route-sent.ripmi)"
same rules-same-as-c rules
same rules-sent-same-as-c rules-sent
same route-same-as-c route
same route-sent-same-as-c route-sent

# Stress, on ripmi only.
load ripmi
bmcsim-ctl clear >/dev/null
rm -f /tmp/ext-rcvr-stop
N=${EXT_RCVR_N:-300}
for p in 1 2 3; do ext-rcvr stress 40 6 >$out/stress.$p 2>$out/stress-err.$p & done
sleep 0.5
t0=$(date +%s)
awk -v n=$N 'BEGIN { srand(4); for (i = 1; i <= n; i++) { c = int(rand() * 15); if (c == 14) c = 15; printf "%d %d %d\n", i, c, int(rand() * 8) } }' >$out/flood
exec 3<>/dev/ttyS2
while read -r id ch cmd; do
	if [ $((ch % 2)) = 0 ]; then src=40; else src=81; fi
	echo "inject $ch $src 30 $cmd $(printf '%02x %02x' $((id / 256)) $((id % 256))) seq=$((id % 64))" >&3
	read -r reply <&3
	case $reply in ok*) ;; *) echo "inject $id: $reply" >>$out/flood-err ;; esac
done <$out/flood
exec 3<&-
bmcsim-ctl wait drained 20000 >/dev/null
t1=$(date +%s)
touch /tmp/ext-rcvr-stop
wait
sleep 1
bmcsim-ctl sent | grep -v '^ok' >$out/stress-sent
cat /sys/kernel/debug/ripmi-ipmi*/channels >$out/stress-channels
cat $out/stress.1 $out/stress.2 $out/stress.3 >$out/stress-all
got=$(grep -c '^got ' $out/stress-all); bad=$(grep -c '^bad ' $out/stress-all)
dups=$(awk '{ print $2 }' $out/stress-all | sort | uniq -d | wc -l)
c1=$(grep -c ' c1 ..$' $out/stress-sent)
# Per (channel, cmd): injected = delivered + answered 0xC1.
awk '{ print $2, $3 }' $out/flood | sort >$out/inj-keys
# busybox awk has no strtonum: convert the cmd byte with printf in the shell instead.
{ awk '{ print $3, $4 }' $out/stress-all; while read -r line; do set -- $line; eval "c=\${$(($# - 2))}"; echo "$1 $((0x$c))"; done <$out/stress-sent; } | sort >$out/acc-keys
rx=$(awk '$1 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' $out/stress-channels)
dl=$(awk '$1 ~ /^[0-9]+$/ { s += $4 } END { print s + 0 }' $out/stress-channels)
un=$(awk '$1 ~ /^[0-9]+$/ { s += $5 } END { print s + 0 }' $out/stress-channels)
dr=$(awk '$1 ~ /^[0-9]+$/ { s += $6 } END { print s + 0 }' $out/stress-channels)
hd=$(awk '$1 ~ /^[0-9]+$/ { s += $7 } END { print s + 0 }' $out/stress-channels)
echo "stress: injected $N in $((t1 - t0))s, delivered $got (bad $bad, dup ids $dups), 0xC1 $c1; counters received $rx delivered $dl unhandled $un dropped $dr held $hd"
if [ "$bad" = 0 ] && [ "$dups" = 0 ] && [ $((got + c1)) = "$N" ] && cmp -s $out/inj-keys $out/acc-keys &&
	[ ! -s $out/flood-err ]; then
	pass stress-every-command-once
else
	fail stress-every-command-once "got $got + c1 $c1 != $N or bad $bad dups $dups; $(diff $out/inj-keys $out/acc-keys | grep '^[-+][0-9]' | head -12 | tr '\n' '|') $(head -3 $out/flood-err 2>/dev/null | tr '\n' '|')"
fi
[ "$rx" = "$N" ] && [ "$dl" = "$got" ] && [ "$un" = "$c1" ] && [ "$dr" = 0 ] && pass stress-channel-counters ||
	fail stress-channel-counters "received $rx delivered $dl unhandled $un dropped $dr"
[ ! -s $out/stress-err.1 ] && [ ! -s $out/stress-err.2 ] && [ ! -s $out/stress-err.3 ] && pass stress-ioctls-no-errors ||
	fail stress-ioctls-no-errors "$(cat $out/stress-err.* | head -3 | tr '\n' '|')"
grep -q "^registrations 0$" $out/stress-channels && pass stress-table-empty-after ||
	fail stress-table-empty-after "$(head -1 $out/stress-channels)"
