#!/bin/sh
# Module parameters in sysfs, on the C stack and on ripmi in one boot (ripmi's BMC simulator,
# scripts/vm --bmc extern; Documentation/parameters.rst):
#  - every ripmi parameter has its file in /sys/module/ripmi/parameters with the expected mode,
#    the same as C's counterpart's where C has one with a file (ipmi_msghandler's seven,
#    ipmi_si's kipmid_max_busy_us for poll_max_busy_us); C's ports, irqs and regspacings have
#    no file (mode 0), ripmi's are read-only (0444);
#  - the values read back (the defaults, C's where C has the parameter);
#  - the writable ones take a new value (and refuse a bad one: a number, or a panic_op that is
#    not none/event/string); the read-only ones refuse writes;
#  - the values written take effect, at run time, the same way on both stacks:
#    default_retry_ms 1000 with default_max_retries 4 sends an IPMB request to a controller that
#    never answers (0x42 on channel 0: the simulator accepts the Send Message and nothing comes
#    back) five times, a second apart, then answers 0xC3; with default_max_retries 0, once;
#    max_users 1 makes the next open fail with EBUSY while one file is open, and the old value
#    back lets it succeed; max_msgs_per_user 1 makes a second request fail with EBUSY while the
#    first one's answer is unread.
# The checks are on ripmi; C's results are printed beside them, and must be the same where the
# test says so.
T=ext-params
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
rm -rf $out
mkdir -p $out
flat() { tr '\n' '|' <"$1" | head -c 400; }
now() { read -r _up _ </proc/uptime; _fr=${_up#*.}; NOW=$((${_up%.*} * 1000 + ${_fr#0} * 10)); }

# ripmi's parameters: name, its C counterpart as MODULE/NAME (- if C has none), the mode ripmi
# gives it, its default, and a value to write (- for a read-only one).
PARAMS="
ports ipmi_si/ports 444 0 -
regspacing ipmi_si/regspacings 444 1 -
irq ipmi_si/irqs 444 0 -
devnum - 444 0 -
devintf - 444 Y -
no_direct_complete - 444 N -
smart_prepare - 444 N -
rpm_watch_ms - 444 250 -
max_users ipmi_msghandler/max_users 644 30 7
max_msgs_per_user ipmi_msghandler/max_msgs_per_user 644 100 50
poll_max_busy_us ipmi_si/kipmid_max_busy_us 644 0 100
default_retry_ms ipmi_msghandler/default_retry_ms 644 2000 1500
default_max_retries ipmi_msghandler/default_max_retries 644 4 2
default_maintenance_retry_ms ipmi_msghandler/default_maintenance_retry_ms 644 3000 2500
maintenance_mode_timeout_ms ipmi_msghandler/maintenance_mode_timeout_ms 644 30000 20000
panic_op ipmi_msghandler/panic_op 600 string event
"

# path NAME C-NAME: the file of the parameter on stack $s.
path() {
	if [ $s = ripmi ]; then echo /sys/module/ripmi/parameters/$1
	elif [ "$2" = - ]; then echo /nonexistent/$1
	else echo /sys/module/${2%/*}/parameters/${2#*/}
	fi
}

# files: for each parameter, "NAME mode=M value=V write=ok|refused|- bad=refused|accepted|-";
# mode "absent" without a file. A writable one gets NEW, is read back, gets a bad value
# (refused: the value stays), then its value back; a read-only one is written its own value.
files() {
	echo "$PARAMS" | while read -r name cname mode def new; do
		[ -n "$name" ] || continue
		f=$(path $name $cname)
		if [ ! -e "$f" ]; then
			echo "$name mode=absent"
			continue
		fi
		m=$(stat -c %a "$f")
		v=$(cat "$f")
		if [ "$new" = - ]; then
			if { echo "$v" >"$f"; } 2>/dev/null; then w=accepted; else w=refused; fi
			[ "$(cat "$f")" = "$v" ] || w="$w,changed"
			b=-
		else
			if { echo "$new" >"$f"; } 2>/dev/null && [ "$(cat "$f")" = "$new" ]; then w=ok
			else w="failed($(cat "$f"))"; fi
			if { echo notanumber >"$f"; } 2>/dev/null; then b=accepted; else b=refused; fi
			[ "$(cat "$f")" = "$new" ] || b="$b,changed"
			# C's kipmid_max_busy_us is an array that reads empty until written: write 0.
			echo "${v:-0}" >"$f"
		fi
		echo "$name mode=$m value=$v write=$w bad=$b"
	done
}

# retries CASE MAX: default_retry_ms 1000 and default_max_retries MAX, then one IPMB request
# to 0x42 with the defaults; writes "cc=.. ms=.. sends=N" to $out/CASE.$s.
retries() {
	d=$(path default_retry_ms ipmi_msghandler/default_retry_ms)
	r=$(path default_max_retries ipmi_msghandler/default_max_retries)
	echo 1000 >$d && echo $2 >$r || { echo "cannot set the parameters" >$out/$1.$s; return; }
	bmcsim-ctl clear >/dev/null
	life-client send ipmb-lost 1 wait 30000 >$out/$1.raw.$s 2>&1
	sends=$(bmcsim-ctl sent | sed -n 's/^ok //p')
	a=$(sed -n 's/^ans .* cc=\([0-9a-f]*\) .* ms=\([0-9]*\)$/cc=\1 ms=\2/p' $out/$1.raw.$s)
	echo "${a:-no answer: $(flat $out/$1.raw.$s)} sends=$sends" >$out/$1.$s
	echo 2000 >$d
	echo 4 >$r
}

# users: max_users 1 with one file open, then a second open; max_users 30 again, the same.
users() {
	u=$(path max_users ipmi_msghandler/max_users)
	life-client send none 0 hang >$out/holder.$s 2>&1 &
	holder=$!
	i=0
	while ! grep -q ready $out/holder.$s && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	echo 1 >$u
	life-client send si 1 wait 5000 >$out/users-1.raw.$s 2>&1
	echo 30 >$u
	life-client send si 1 wait 5000 >$out/users-30.raw.$s 2>&1
	kill $holder
	wait $holder 2>/dev/null
	{
		echo "max_users=1: $(head -n 1 $out/users-1.raw.$s)"
		echo "max_users=30: $(grep -o 'cc=[0-9a-f]*' $out/users-30.raw.$s)"
	} >$out/users.$s
}

# msgs: max_msgs_per_user 1, two requests from one file before reading any answer.
msgs() {
	m=$(path max_msgs_per_user ipmi_msghandler/max_msgs_per_user)
	echo 1 >$m
	life-client send si 2 wait 5000 >$out/msgs.raw.$s 2>&1
	echo 100 >$m
	grep -E '^(send-error|sent|done)' $out/msgs.raw.$s | sed 's/ max_ms=.*//' >$out/msgs.$s
}

now; t0=$NOW
for s in c ripmi; do
	use-stack $s || { fail "load-$s" "could not load the $s stack"; continue; }
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	bmcsim-ctl fault none >/dev/null
	files >$out/files.$s
	retries default-retries 4
	retries no-retries 0
	users
	msgs
	now; echo "# $T: $s done after $((NOW - t0)) ms"
	for f in files default-retries no-retries users msgs; do echo "# $s $f: $(flat $out/$f.$s)"; done
done
use-stack ripmi

# The files: ripmi's as PARAMS says; where C has a file, the same mode and default.
echo "$PARAMS" | while read -r name cname mode def new; do
	[ -n "$name" ] || continue
	r=$(grep "^$name " $out/files.ripmi)
	c=$(grep "^$name " $out/files.c)
	if [ "$new" = - ]; then want="$name mode=$mode value=$def write=refused bad=-"
	else want="$name mode=$mode value=$def write=ok bad=refused"; fi
	why=
	[ "$r" = "$want" ] || why="ripmi: '$r', want '$want'"
	case $cname:$c in
	-:*) ;;
	# C hides these (mode 0); ripmi shows them read-only.
	ipmi_si/ports:* | ipmi_si/irqs:* | ipmi_si/regspacings:*)
		[ "$c" = "$name mode=absent" ] || why="${why:+$why; }C: '$c', want no file" ;;
	# C's array reads empty until written, and a refused write empties it (param_array()
	# counts the elements anew).
	ipmi_si/kipmid_max_busy_us:"$name mode=$mode value= write=ok bad=refused"*) ;;
	ipmi_si/kipmid_max_busy_us:*) why="${why:+$why; }C: '$c'" ;;
	*) [ "$c" = "$r" ] || why="${why:+$why; }C: '$c', ripmi: '$r'" ;;
	esac
	[ -z "$why" ] && pass "file-$name" || fail "file-$name" "$why"
done

# behaviour CASE CC MIN-MS MAX-MS SENDS: the request ended with CC within the time, after SENDS
# Send Messages; on C as on ripmi.
behaviour() {
	for s in c ripmi; do
		got=$(cat $out/$1.$s)
		ms=$(echo "$got" | sed -n 's/.* ms=\([0-9]*\) .*/\1/p')
		why=
		echo "$got" | grep -q "^cc=$2 ms=[0-9]* sends=$5\$" || why="got '$got', want cc=$2 sends=$5"
		[ -z "$why" ] && { [ "$ms" -lt "$3" ] || [ "$ms" -gt "$4" ]; } && why="took $ms ms, want $3..$4"
		if [ $s = c ]; then cwhy=$why; continue; fi
		[ -n "$cwhy" ] && why="${why:+$why; }on C: $cwhy"
		[ -z "$why" ] && pass "$1" || fail "$1" "$why"
	done
}
# Five sends, the 0xC3 after the fifth's 1 s (C counts its retry time on a 1 s timer, so
# between 4 and 5 s after the first).
behaviour default-retries c3 3000 7500 5
behaviour no-retries c3 0 2500 1

for k in users msgs; do
	cmp -s $out/$k.c $out/$k.ripmi || fail "$k-same-as-c" "C: $(flat $out/$k.c) ripmi: $(flat $out/$k.ripmi)"
done
grep -qx 'max_users=1: open-error EBUSY' $out/users.ripmi && grep -qx 'max_users=30: cc=00' $out/users.ripmi &&
	pass max-users-at-run-time || fail max-users-at-run-time "$(flat $out/users.ripmi)"
[ "$(flat $out/msgs.ripmi)" = 'send-error msgid=2 EBUSY|sent 1|done answered=1 of 1|' ] &&
	pass max-msgs-per-user-at-run-time || fail max-msgs-per-user-at-run-time "$(flat $out/msgs.ripmi)"
now; echo "# $T: $((NOW - t0)) ms"
