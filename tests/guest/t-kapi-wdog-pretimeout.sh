#!/bin/sh
# t-kapi-wdog-pretimeout.sh: the BMC's watchdog pre-timeout reaches ipmi_watchdog, on the C stack
# and on ripmi (the handler calls the user's ipmi_watchdog_pretimeout, C
# ipmi_smi_watchdog_pretimeout()). ipmi_watchdog with preaction=pre_int and preop=preop_give_data
# makes a read of /dev/watchdog wait for the pre-timeout: started with timeout=60 pretimeout=56,
# the BMC (QEMU's ipmi-bmc-sim) raises it about 4 s after the first write; the read must return
# then, not at once. (ipmi_watchdog sets no pre-timeout with action=none, so the action is reset,
# 60 s away; the read gives up after 15 s and the magic close, nowayout=0, stops the watchdog
# long before.)
T=kapi-wdog-pretimeout
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
WD=/lib/modules/c-ipmi/ipmi_watchdog.ko
[ -f $WD ] || { fail setup "no ipmi_watchdog.ko"; exit 1; }
now_s() { cut -d' ' -f1 /proc/uptime | cut -d. -f1; }

one() { # stack
	use-stack "$1" || { fail "$1/setup" "use-stack $1 failed"; return; }
	if ! insmod $WD timeout=60 pretimeout=56 preaction=pre_int preop=preop_give_data action=reset nowayout=0; then
		fail "$1/setup" "insmod ipmi_watchdog failed: $(dmesg | tail -n 3 | tr '\n' '|')"
		return
	fi
	i=0
	while [ ! -c /dev/watchdog ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	exec 3<>/dev/watchdog
	printf x >&3
	t0=$(now_s)
	got=$(timeout 15 dd bs=1 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' ')
	dt=$(($(now_s) - t0))
	printf V >&3
	exec 3>&-
	echo "# $1: read returned '$got' after ${dt} s"
	if [ -n "$got" ] && [ $dt -ge 2 ] && [ $dt -le 10 ]; then pass "$1/pretimeout-wakes-reader"; else
		fail "$1/pretimeout-wakes-reader" "read returned '$got' after ${dt} s (want data at ~4 s)"; fi
	state=$(ipmitool -I open mc watchdog get 2>&1 | grep -i 'Timer Is')
	case $state in *Stopped*) pass "$1/magic-close-stops" ;; *) fail "$1/magic-close-stops" "'$state'" ;; esac
	rmmod ipmi_watchdog || fail "$1/unload" "rmmod ipmi_watchdog failed"
}
one c
one ripmi
use-stack ripmi >/dev/null || true
