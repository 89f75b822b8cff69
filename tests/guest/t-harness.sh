#!/bin/sh
# Harness self-tests: the C reference stack answers through /dev/ipmi0, ripmi's module
# parameters are registered with their defaults, and the two stacks swap cleanly.
pass() { echo "RIPMI-RESULT pass harness/$1"; }
fail() { echo "RIPMI-RESULT fail harness/$1: $2"; }
check() { # name command...
	name=$1; shift
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

param() { cat /sys/module/ripmi/parameters/$1 2>/dev/null; }
params_default() {
	[ "$(param max_users)" = 30 ] && [ "$(param max_msgs_per_user)" = 100 ] &&
		[ "$(param devnum)" = 0 ] && [ "$(param ports)" = 0 ] && [ "$(param regspacing)" = 1 ]
}
check ripmi-params-default params_default

unload-ripmi
check ripmi-unloaded sh -c '! grep -q "^ripmi " /proc/modules'
check ripmi-param-override sh -c 'load-ripmi devnum=3 max_users=7 >/dev/null &&
	[ "$(cat /sys/module/ripmi/parameters/devnum)" = 3 ] &&
	[ "$(cat /sys/module/ripmi/parameters/max_users)" = 7 ] && unload-ripmi'
check ripmi-bad-param-refused sh -c '! insmod /lib/modules/ripmi.ko max_users=notanumber 2>/dev/null'

c_mc_info() {
	load-c-ipmi || return 1
	out=$(ipmitool -I open mc info 2>&1)
	unload-c-ipmi || return 1
	echo "$out" | grep -Eq '^Device ID +: 32$' || { echo "$out"; return 1; }
}
check c-stack-device-id c_mc_info
check ripmi-reload load-ripmi
