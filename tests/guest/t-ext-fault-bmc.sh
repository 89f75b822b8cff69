#!/bin/sh
# A misbehaving BMC (ripmi's simulator, scripts/vm --bmc extern), each scenario on the C stack
# and then on ripmi in one boot. For every scenario one request (Get Chassis Status, 00/01, which
# no driver sends on its own, so "bmcsim-ctl count 00 01" says how often the BMC executed it; the
# fault is aimed at it with cmd=00:01) must end exactly once, with a response or an error
# completion code, in bounded time; the BMC must have executed it the expected number of times;
# and a normal Get Device ID right afterwards must succeed. Checks are on ripmi
# (RIPMI-RESULT lines); the C stack's outcome of the same check is printed as a reference line
# ("# C reference ...") and, where C is a fair reference, compared.
#
# QEMU's ipmi-bmc-extern gives up on a request after 4 s (0xC3), and a response arriving later
# than that cancels the 4 s timer of the request QEMU forwarded next; if that one is then never
# answered, QEMU's KCS stays busy forever (tools/bmcsim/README.md). So no delay here reaches
# 4 s, and each scenario ends with "wait idle".
pass() { echo "RIPMI-RESULT pass fault/$1"; }
fail() { echo "RIPMI-RESULT fail fault/$1: $2"; }
out=/tmp/fault-bmc
rm -rf $out
mkdir -p $out
num() { sed -n 's/^ok \{0,1\}//p' | head -n 1; }
executed() { bmcsim-ctl count 00 01 | num; }
irq=1
dmesg | grep -q 'ripmi.*: /dev/ipmi0 ready (polled)' && irq=0
# The IRQ back at QEMU's level (only meaningful with one; the BMC's enables are untouched).
rescue="bmcsim-ctl fault none"
[ $irq = 1 ] && rescue="bmcsim-ctl ctrl 05; $rescue"

# scen NAME SETUP [fault-send ARGS]: installs the fault with the shell command SETUP, sends the
# request (fault-send ARGS, default "00 01"), then a normal Get Device ID on the same file
# (fault-send -a; the faults are aimed at 00/01 and leave it alone), and records how often the
# BMC executed 00/01. Faults that end by themselves (count=1, disconnect, reset) are not
# cleared (each control round trip costs a fraction of a second under TCG).
secs() { read -r up _ </proc/uptime; echo "${up%.*}"; }
scen() {
	name=$1 setup=$2
	shift 2
	[ $# -gt 0 ] || set -- 00 01
	f=$out/$name.$s
	t0=$(secs)
	eval "$setup" >/dev/null
	# If the Get Device ID is not answered in 10 s, the IRQ is re-enabled at QEMU's level
	# before the file closes (a failure all the same).
	case " $* " in *" -r "*) ;; *) set -- -r "$rescue" "$@" ;; esac
	fault-send -a "$@" >$f 2>&1
	wait
	case $setup in *count=1* | *disconnect* | *reset*) ;; *) bmcsim-ctl fault none >/dev/null ;; esac
	case $setup in *delay*) bmcsim-ctl wait idle 10000 >/dev/null ;; esac
	case $setup in *disconnect* | *hangup*) bmcsim-ctl wait connected 10000 >/dev/null ;; esac
	e1=$(executed)
	echo "executed=$((e1 - e0))" >>$f
	e0=$e1
	echo "# $s $name: $(($(secs) - t0)) s"
}

# seq_to HEX: sends Get Device IDs until the last sequence number QEMU gave a request (its KCS
# message ID, 00..ff, wrapping) is HEX, so that the next request gets HEX + 1 (or + 2 if the
# driver slips one of its own in between).
stat() { bmcsim-ctl stats | sed -n "s/.* $1=\([0-9a-f-]*\) .*/\1/p"; }
seq_to() {
	tries=0
	while [ $tries -lt 20 ]; do
		cur=$(stat last_seq)
		[ "$cur" = - ] && cur=0
		n=$(((0x$1 - 0x$cur + 256) % 256))
		[ $n -eq 0 ] && return 0
		[ $n -gt 32 ] && n=32
		fault-send -n $n -w 10000 -x 0 06 01 >/dev/null 2>&1
		tries=$((tries + 1))
	done
	return 1
}

stack() {
	s=$1
	use-stack $s || { echo "use-stack $s failed"; return 1; }
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
	bmcsim-ctl fault none >/dev/null
	bmcsim-ctl flush >/dev/null
	e0=$(executed)
	# Slow answers, under QEMU's 4 s limit: the answer comes, late.
	scen slow-500 "bmcsim-ctl fault delay 500 count=1 cmd=00:01"
	scen slow-3000 "bmcsim-ctl fault delay 3000 count=1 cmd=00:01"
	# Error completion codes, passed to the user as they are.
	scen cc-c0 "bmcsim-ctl fault cc c0 count=1 cmd=00:01"
	scen cc-ff "bmcsim-ctl fault cc ff count=1 cmd=00:01"
	# The KCS interrupt lost (QEMU stops raising it: ctrl 06), with the request answered at
	# once, after 2.5 s, and after 2.5 s with an events user on the file. The IRQ comes back
	# (ctrl 05) only if the request was not answered within 8 s, so that no request is left in
	# flight when the file closes.
	if [ $irq = 1 ]; then
		scen irq-lost "bmcsim-ctl ctrl 06" -w 8000 -r "bmcsim-ctl ctrl 05" 00 01
		bmcsim-ctl ctrl 05 >/dev/null
		scen irq-lost-slow "bmcsim-ctl ctrl 06; bmcsim-ctl fault delay 2500 count=1 cmd=00:01" -w 8000 -r "bmcsim-ctl ctrl 05" 00 01
		bmcsim-ctl ctrl 05 >/dev/null
		scen irq-lost-slow-events "bmcsim-ctl ctrl 06; bmcsim-ctl fault delay 2500 count=1 cmd=00:01" -e -w 8000 -r "bmcsim-ctl ctrl 05" 00 01
		bmcsim-ctl ctrl 05 >/dev/null
	fi
	# A BMC that ignores one request (not executed), then answers again: QEMU's 0xC3.
	scen silence "bmcsim-ctl fault drop count=1 cmd=00:01"
	# The same with the request's sequence number A0 (or A1): QEMU would misroute its own 0xC3
	# and wedge its KCS for the rest of the boot, so the simulator answers in its place
	# (tools/bmcsim/README.md); the drivers see the same 0xC3 after 4 s, and carry on.
	n0=$(stat stand_ins)
	if seq_to 9f; then
		scen seq-a0 "bmcsim-ctl fault drop count=1 cmd=00:01"
	else
		echo "could not bring the sequence number to 9f" >$out/seq-a0.$s
	fi
	echo "stand_ins=$(($(stat stand_ins) - n0))" >>$out/seq-a0.$s
	# Garbage and a bad checksum instead of the answer (executed, answer lost): 0xC3.
	scen garbage "bmcsim-ctl fault garbage count=1 cmd=00:01"
	scen badsum "bmcsim-ctl fault badsum count=1 cmd=00:01"
	# The simulator drops the link when the request arrives: QEMU answers 0xD2 and reconnects.
	scen disconnect "bmcsim-ctl fault disconnect cmd=00:01" -b "bmcsim-ctl wait connected 10000 >/dev/null" 00 01
	# The link drops while the BMC works on the request (executed, answer lost): 0xD2.
	scen hangup-mid-request "bmcsim-ctl fault delay 3000 count=1 cmd=00:01; (sleep 1; bmcsim-ctl hangup) &" -b "sleep 0.5; bmcsim-ctl wait idle 10000 >/dev/null; bmcsim-ctl wait connected 10000 >/dev/null" 00 01
	# The file closes while its request is at a slow BMC (the answer comes 3 s later, to
	# nobody): nothing to see but no splat, the BMC executed it once, and a new file works.
	t0=$(secs)
	bmcsim-ctl fault delay 3000 count=1 cmd=00:01 >/dev/null
	fault-send -w 300 -x 0 -r true -R 0 00 01 >$out/close-while-slow.$s 2>&1
	bmcsim-ctl wait idle 10000 >/dev/null
	fault-send -w 10000 -x 0 -r "$rescue" 06 01 >>$out/close-while-slow.$s 2>&1
	e1=$(executed)
	echo "executed=$((e1 - e0))" >>$out/close-while-slow.$s
	e0=$e1
	echo "# $s close-while-slow: $(($(secs) - t0)) s"
	# Several requests queued while the BMC is gone for good, then the BMC is back.
	scen hosed "bmcsim-ctl fault silence count=2 cmd=00:01" -n 2 -w 20000 00 01
	# ATN raised with nothing behind it (Get Message Flags reports 0): once by hand (QEMU then
	# holds it until told otherwise), then re-asserted after every response; requests are still
	# served, and a real incoming command (no receiver: answered 0xC1 through Send Message)
	# still gets through. How many Get Message Flags each stack sends is printed.
	g0=$(bmcsim-ctl count 06 31 | num)
	scen atn-spurious "bmcsim-ctl ctrl 01" -n 3 00 01
	g1=$(bmcsim-ctl count 06 31 | num)
	scen atn-stuck "bmcsim-ctl set stuck_atn on" -n 3 00 01
	bmcsim-ctl clear >/dev/null
	bmcsim-ctl inject 0 40 30 5 01 02 >/dev/null
	if bmcsim-ctl wait sent 1 8000 >/dev/null; then echo yes; else echo no; fi >$out/atn-stuck-cmd.$s
	g2=$(bmcsim-ctl count 06 31 | num)
	sleep 2
	g3=$(bmcsim-ctl count 06 31 | num)
	bmcsim-ctl set stuck_atn off >/dev/null
	bmcsim-ctl ctrl 00 >/dev/null
	echo "atn-spurious=$((g1 - g0)) atn-stuck=$((g2 - g1)) idle-2s-stuck=$((g3 - g2))" >$out/getflags.$s
	echo "# $s Get Message Flags sent: $(cat $out/getflags.$s)"
	e0=$(executed)
	# Last (it leaves the BMC's interrupt enables off): the BMC resets itself with the request
	# half done and boots for 1 s: enables back to 0x08 (QEMU raises no interrupt), queue lost,
	# the request never executed: 0xC3; the driver must carry on without the interrupt.
	scen bmc-reset "bmcsim-ctl fault reset 1000 cmd=00:01"
	bmcsim-ctl stats | grep -o 'enables=[0-9a-f]*' >$out/enables-after-reset.$s
	bmcsim-ctl fault none >/dev/null
	bmcsim-ctl flush >/dev/null
}

start=$(date +%s)
stack c
stack ripmi
echo "# t-ext-fault-bmc: $(($(date +%s) - start)) s for both stacks"

# verdict NAME CCS-REGEX MIN-MS MAX-MS EXECUTED [N]: the request(s) ended exactly once with a
# completion code matching CCS-REGEX (all N of them, comma-separated), none later than MAX-MS
# and the last not before MIN-MS; the BMC executed 00/01 EXECUTED times; the Get Device ID
# afterwards succeeded. Checked on ripmi; C's outcome is printed for reference.
verdict() {
	name=$1 ccs=$2 lo=$3 hi=$4 ex=$5 n=${6:-1}
	for s in c ripmi; do
		f=$out/$name.$s
		[ -f $f ] || continue
		sum=$(grep '^summary ' $f)
		ms=$(echo "$sum" | sed -n 's/.* maxms=\([0-9]*\) .*/\1/p')
		got=$(sed -n 's/^executed=//p' $f)
		why=
		echo "$sum" | grep -Eq "^summary sent=$n answered=$n dup=0 unknown=0 events=[0-9]+ rescued=0 maxms=[0-9]+ ccs=($ccs)\$" ||
			why="answers: $(grep -v '^executed' $f | tr '\n' '|')"
		[ -z "$why" ] && { [ "$ms" -lt "$lo" ] || [ "$ms" -gt "$hi" ]; } && why="took $ms ms, want $lo..$hi"
		[ "$ex" = - ] || [ "$got" = "$ex" ] || why="${why:+$why; }BMC executed it $got times, want $ex"
		grep -q '^after cc=00 ms=[0-9]* rescued=0$' $f ||
			why="${why:+$why; }Get Device ID afterwards: $(grep '^after' $f | tr '\n' '|')"
		if [ $s = c ]; then
			echo "# C reference fault/$name: ${why:-pass} ($(echo "$sum" | sed 's/^summary //') executed=$got)"
		elif [ -z "$why" ]; then
			pass "$name"
		else
			fail "$name" "$why"
		fi
	done
}
verdict slow-500 00 500 3000 1
verdict slow-3000 00 3000 6500 1
verdict cc-c0 c0 0 3000 1
verdict cc-ff ff 0 3000 1
if [ $irq = 1 ]; then
	verdict irq-lost 00 0 8000 1
	verdict irq-lost-slow 00 2500 8000 1
	verdict irq-lost-slow-events 00 2500 8000 1
else
	echo "# no IRQ in this boot: the lost-interrupt scenarios are skipped"
fi
verdict silence c3 3500 9000 0
verdict seq-a0 c3 3500 9000 0
grep -q '^stand_ins=1$' $out/seq-a0.ripmi && pass seq-a0-answered-in-qemus-place ||
	fail seq-a0-answered-in-qemus-place "$(grep -v '^summary\|^answer' $out/seq-a0.ripmi | tr '\n' '|')"
verdict garbage c3 3500 9000 1
verdict badsum c3 3500 9000 1
verdict disconnect d2 0 3000 0
verdict hangup-mid-request d2 500 3000 1
for s in c ripmi; do
	f=$out/close-while-slow.$s
	if grep -q '^summary sent=1 answered=0 ' $f && grep -Eq '^summary sent=1 answered=1 dup=0 unknown=0 events=[0-9]+ rescued=0 .* ccs=00$' $f &&
		grep -q '^executed=1$' $f; then why=; else why="$(tr '\n' '|' <$f)"; fi
	if [ $s = c ]; then echo "# C reference fault/close-while-slow: ${why:-pass}"
	elif [ -z "$why" ]; then pass close-while-slow; else fail close-while-slow "$why"; fi
done
verdict hosed 'c3,c3' 3500 17000 0 2
verdict atn-spurious '00,00,00' 0 5000 3 3
verdict atn-stuck '00,00,00' 0 5000 3 3
verdict bmc-reset c3 3500 9000 0
[ "$(cat $out/atn-stuck-cmd.ripmi)" = yes ] && pass atn-stuck-incoming-command-answered ||
	fail atn-stuck-incoming-command-answered "no 0xC1 answer through Send Message within 8 s"
echo "# C reference fault/atn-stuck-incoming-command-answered: $(cat $out/atn-stuck-cmd.c)"
# After a BMC reset the interrupt enables are gone; report what each stack restored.
echo "# after bmc-reset and one request: C $(cat $out/enables-after-reset.c) ripmi $(cat $out/enables-after-reset.ripmi)"
# Neither stack backs off from a stuck ATN (each Get Message Flags answered 0 is followed by
# another): the rates are printed above, not checked.
use-stack ripmi
