#!/bin/sh
# Harness self-tests: ripmi loads with its parameter defaults and with overrides, rejects a bad
# parameter, and the C reference stack answers Get Device ID through /dev/ipmi0 on the same BMC.
pass() { echo "RIPMI-RESULT pass harness/$1"; }
fail() { echo "RIPMI-RESULT fail harness/$1: $2"; }
check() { # name command...
	name=$1; shift
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
# The values in effect at load, from the line ripmi logs then (t-ext-params checks the same
# values in /sys/module/ripmi/parameters/, with the C stack beside them).
last_load_line() { dmesg | grep -a 'ripmi: loaded (' | tail -n 1; }
stop_ripmi() { grep -q '^ripmi ' /proc/modules && unload-ripmi; true; }

defaults() {
	last_load_line | grep -q 'ports=0x0 regspacing=1 irq=0 devnum=0 max_users=30 max_msgs_per_user=100 poll_max_busy_us=0)' ||
		{ last_load_line; return 1; }
}
check ripmi-params-default defaults

# Every parameter is readable in sysfs (scripts/run lists them with grep -H).
in_sysfs() {
	d=/sys/module/ripmi/parameters
	names="default_maintenance_retry_ms default_max_retries default_retry_ms devintf devnum irq
		maintenance_mode_timeout_ms max_msgs_per_user max_users no_direct_complete panic_op
		poll_max_busy_us ports regspacing rpm_watch_ms smart_prepare"
	[ "$(ls $d | tr '\n' ' ')" = "$(echo $names) " ] || { ls -l $d; return 1; }
	for p in $names; do [ "$(grep -c . $d/$p)" = 1 ] || { echo "$p unreadable"; return 1; }; done
	grep -qx 30 $d/max_users
}
check ripmi-params-in-sysfs in_sysfs

overrides() {
	stop_ripmi
	load-ripmi devnum=3 max_users=7 ports=0xca2 >/dev/null || return 1
	line=$(last_load_line)
	unload-ripmi || return 1
	echo "$line" | grep -q 'ports=0xca2 regspacing=1 irq=0 devnum=3 max_users=7 ' || { echo "$line"; return 1; }
}
check ripmi-param-override overrides

bad_param() {
	stop_ripmi
	! insmod /lib/modules/ripmi.ko max_users=notanumber 2>/dev/null && ! grep -q '^ripmi ' /proc/modules
}
check ripmi-bad-param-refused bad_param

c_mc_info() {
	stop_ripmi
	load-c-ipmi || return 1
	out=$(ipmitool -I open mc info 2>&1)
	unload-c-ipmi || return 1
	echo "$out" | grep -Eq '^Device ID +: 32$' || { echo "$out"; return 1; }
}
check c-stack-device-id c_mc_info

# The C stack holds the BMC: ripmi cannot even load next to it (both export the in-kernel IPMI
# API, Documentation/kernel-api.rst): the module loader refuses it with one line naming
# ipmi_msghandler, and the C stack's node stays the only one.
region_taken() {
	stop_ripmi
	load-c-ipmi || return 1
	mark=$(dmesg | wc -l)
	load-ripmi >/dev/null 2>&1 && { unload-ripmi; unload-c-ipmi; echo "ripmi loaded next to the C stack"; return 1; }
	msg=$(dmesg | tail -n +$((mark + 1)) | grep -a 'ripmi: exports duplicate symbol .* (owned by ipmi_msghandler)')
	nodes=$(ls /dev/ipmi* 2>/dev/null | wc -l)
	works=$(ipmitool -I open mc info 2>&1 | grep -c 'Device ID')
	unload-c-ipmi || return 1
	[ -n "$msg" ] && [ "$nodes" = 1 ] && [ "$works" = 1 ] || { echo "message: '$msg', nodes: $nodes, mc info: $works"; return 1; }
}
check ports-taken-by-c-stack region_taken

# ports=/irq= for a BMC without ACPI: keep the ACPI device from binding, then place the KCS by
# parameters, with an IRQ and polled.
by_params() { # extra-params expected-mode
	stop_ripmi
	ovr=/sys/bus/platform/devices/IPI0001:00/driver_override
	echo none >$ovr || return 1
	load-ripmi ports=0xca2 $1 >/dev/null
	out=$(ipmitool -I open mc info 2>&1)
	mode=$(dmesg | grep -a 'ripmi.*: /dev/ipmi0 ready' | tail -n 1)
	bound=$(ls /sys/bus/platform/drivers/ripmi/ 2>/dev/null | grep -c '^ripmi$')
	unload-ripmi
	echo >$ovr
	echo "$out" | grep -Eq '^Device ID +: 32$' && echo "$mode" | grep -q "($2)" && [ "$bound" = 1 ] ||
		{ echo "$out / $mode / bound=$bound"; return 1; }
}
check ports-param-irq by_params "irq=5" "interrupt driven"
check ports-param-polled by_params "" "polled"

check ripmi-reload sh -c 'grep -q "^ripmi " /proc/modules || load-ripmi'
