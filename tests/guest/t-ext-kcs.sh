#!/bin/sh
# Tests against ripmi's BMC simulator (scripts/vm --bmc extern), each scenario run on the C stack
# and on ripmi in the same boot, with the bytes compared:
#  - an incoming IPMB and LAN command with no receiver gets the 0xC1 answer through Send Message;
#  - a registered user receives a command (address, msgid, data) and its response reaches the
#    BMC correctly addressed, with the "response to a response" coming back;
# (A BMC that stops answering is t-ext-zsilence, which runs last.)
pass() { echo "RIPMI-RESULT pass ext/$1"; }
fail() { echo "RIPMI-RESULT fail ext/$1: $2"; }
out=/tmp/ext
mkdir -p $out

scenario() { # stack
	s=$1
	use-stack $s || return 1
	# The C stack drops incoming messages until its channel scan is over; give both a moment.
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
	# BMC Global Enables as the driver left them (interrupt bits only with an IRQ).
	bmcsim-ctl stats | grep -o 'enables=[0-9a-f]*' >$out/enables.$s
	bmcsim-ctl clear >/dev/null
	bmcsim-ctl inject 0 40 30 5 01 02 seq=7 >/dev/null
	bmcsim-ctl inject 1 81 30 7 aa seq=5 >/dev/null
	if bmcsim-ctl wait sent 2 5000 >/dev/null; then echo prompt; else echo late; fi >$out/prompt.$s
	# Without an IRQ and with no receiver registered, C's kipmid sleeps until the next request,
	# so C answers only then; ripmi polls attention and has answered already. One request makes
	# both stacks catch up before the bytes are compared.
	ext-send 06 01 5000 >/dev/null 2>&1
	bmcsim-ctl wait sent 2 20000 >/dev/null
	bmcsim-ctl sent | grep -v '^ok' >$out/norcvr.$s
	bmcsim-ctl clear >/dev/null
	ext-recv 0 30 9 42 11 >$out/recv-ipmb.$s 2>&1
	ext-recv 1 30 b 81 13 >$out/recv-lan.$s 2>&1
	# struct ipmi_lan_addr ends in one padding byte, which C leaves uninitialised (it copies
	# kernel stack to userspace) and ripmi zeroes: keep it aside and compare the rest.
	sed -n 's/.* addr=0400.\{18\}\(..\)$/\1/p' $out/recv-lan.$s >$out/lan-pad.$s
	sed -i 's/\( addr=0400.\{18\}\)..$/\1PP/' $out/recv-lan.$s
	bmcsim-ctl sent | grep -v '^ok' >$out/rsp.$s
	use-stack none
}

scenario c
scenario ripmi

same() { # name file
	if cmp -s $out/$2.c $out/$2.ripmi; then
		pass "$1"
	else
		fail "$1" "C: $(head -c 300 $out/$2.c | tr '\n' '|') ripmi: $(head -c 300 $out/$2.ripmi | tr '\n' '|')"
	fi
}
# Absolute checks on ripmi first (so a broken C run cannot hide a ripmi bug), then C equality.
grep -qx '0 00 40 c4 fc 20 1e 05 c1 fc' $out/norcvr.ripmi && pass no-receiver-ipmb-bytes ||
	fail no-receiver-ipmb-bytes "$(cat $out/norcvr.ripmi | tr '\n' '|')"
grep -qx '1 01 01 81 c4 ba 20 16 07 c1 02' $out/norcvr.ripmi && pass no-receiver-lan-bytes ||
	fail no-receiver-lan-bytes "$(cat $out/norcvr.ripmi | tr '\n' '|')"
same global-enables-same-as-c enables
same no-receiver-same-as-c norcvr
[ "$(cat $out/prompt.ripmi)" = prompt ] && pass no-receiver-answered-within-5s ||
	fail no-receiver-answered-within-5s "ripmi answered only after another request"
grep -q '^cmd: recv_type=3 ' $out/recv-ipmb.ripmi && grep -q '^rsp: recv_type=4 .* data=00$' $out/recv-ipmb.ripmi &&
	pass receive-ipmb-command || fail receive-ipmb-command "$(cat $out/recv-ipmb.ripmi | tr '\n' '|')"
grep -q '^cmd: recv_type=3 ' $out/recv-lan.ripmi && grep -q '^rsp: recv_type=4 ' $out/recv-lan.ripmi &&
	pass receive-lan-command || fail receive-lan-command "$(cat $out/recv-lan.ripmi | tr '\n' '|')"
same receive-ipmb-same-as-c recv-ipmb
same receive-lan-same-as-c recv-lan
[ "$(cat $out/lan-pad.ripmi)" = 00 ] && pass lan-addr-padding-zeroed ||
	fail lan-addr-padding-zeroed "padding byte $(cat $out/lan-pad.ripmi)"
same response-bytes-same-as-c rsp
# Leave ripmi loaded, as run-guest-tests expects.
use-stack ripmi
