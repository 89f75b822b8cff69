#!/bin/sh
# Power management of ripmi against ripmi's BMC simulator (scripts/vm --bmc extern), with
# "echo devices > /sys/power/pm_test; echo freeze > /sys/power/state" cycles:
#  - the flag matrix {none, NO_DIRECT_COMPLETE, SMART_PREPARE, both} x {idle and runtime-suspended,
#    runtime-suspended with a command waiting at the BMC, a request in flight}: from the debugfs
#    counters and the pm_print_times lines, exactly when the suspend callback ran and when
#    direct-complete skipped it (Documentation/pm.rst has the expected table);
#  - 20 suspend cycles while a client keeps requests in flight and commands are injected: each
#    request answered once, each command delivered once;
#  - rmmod while runtime-suspended, and unbind/rebind through sysfs.
# A kernel splat fails the run (scripts/vm checks the log).
pass() { echo "RIPMI-RESULT pass pm/$1"; }
fail() { echo "RIPMI-RESULT fail pm/$1: $2"; }
check() { # name condition-text; runs the condition with eval
	n=$1; shift
	if eval "$@"; then pass "$n"; else fail "$n" "$* ($(tr '\n' ' ' <$D/pm 2>/dev/null))"; fi
}
D=/sys/kernel/debug/ripmi-ipmi0
P=/sys/bus/platform/devices/IPI0001:00
LOG=/tmp/pm-log
[ -w /sys/module/suspend/parameters/pm_test_delay ] && echo 1 >/sys/module/suspend/parameters/pm_test_delay
echo 1 >/sys/power/pm_print_times
echo devices >/sys/power/pm_test
# The PM core's "direct-complete" debug line is a dev_dbg(): turn it on if dynamic debug exists.
echo 'file drivers/base/power/main.c +p' >/sys/kernel/debug/dynamic_debug/control 2>/dev/null

get() { sed -n "s/^$1 //p" $D/pm; }
rpm() { cat $P/power/runtime_status; }
wait_rpm() { # status
	i=0
	while [ "$(rpm)" != "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ "$(rpm)" = "$1" ]
}
wait_dev() {
	i=0
	while [ ! -c /dev/ipmi0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -c /dev/ipmi0 ]
}
freeze() {
	dmesg -c >/dev/null
	echo freeze >/sys/power/state
	rc=$?
	dmesg >$LOG
	return $rc
}
# Whether the PM core called the ACPI PM domain's callback $1 for the device (pm_print_times).
called() { grep -q "IPI0001:00: PM: calling acpi_subsys_$1 " $LOG; }
reload() {
	use-stack ripmi "$@" && wait_dev
}

# case STATE: prepares STATE, runs one freeze cycle and checks the outcome against the rules:
# direct-complete happens iff the middle layer's prepare was positive (ripmi's own prepare, or
# the ACPI domain overriding a 0 when SMART_PREPARE is not set), NO_DIRECT_COMPLETE is clear, and
# the device is still runtime-suspended when the core reaches it.
run_case() { # tag state ndc sp
	tag=$1 state=$2 ndc=$3 sp=$4
	pp0=$(get prepare_positive) s0=$(get suspend) r0=$(get resume) c0=$(get complete) dc0=$(get direct_complete)
	sender=
	case $state in
	idle)
		wait_rpm suspended || fail "$tag/runtime-suspended" "runtime_status $(rpm)"
		mine=1 # ripmi's prepare says direct-complete is fine
		;;
	attn)
		wait_rpm suspended || fail "$tag/runtime-suspended" "runtime_status $(rpm)"
		bmcsim-ctl clear >/dev/null
		bmcsim-ctl inject 0 40 30 5 00 00 >/dev/null
		if grep -q ripmi /proc/interrupts; then
			# With an IRQ the line stays unmasked while runtime-suspended (it may be shared,
			# pm.rst): the attention is served at once, the command answered, and the device
			# suspends again with nothing pending, so prepare allows direct-complete.
			check "$tag/$state/served-while-runtime-suspended" "bmcsim-ctl wait sent 1 5000 >/dev/null"
			wait_rpm suspended || fail "$tag/suspended-again" "runtime_status $(rpm)"
			mine=1
		else
			sleep 0.2
			[ "$(rpm)" = suspended ] || fail "$tag/still-runtime-suspended" "$(rpm)"
			mine=0 # work is pending at the BMC: ripmi's prepare returns 0
		fi
		;;
	busy)
		# Idle first: the start-up traffic after the previous resume must not take the delay.
		wait_rpm suspended || fail "$tag/runtime-suspended" "runtime_status $(rpm)"
		# Long enough to be in flight at prepare on a loaded host, short of the 2 s quiesce.
		bmcsim-ctl fault delay 1900 count=1 >/dev/null
		ext-send 06 01 15000 >/tmp/pm-send.out 2>&1 &
		sender=$!
		sleep 0.4
		[ "$(rpm)" = active ] || fail "$tag/active-while-busy" "$(rpm)"
		[ "$(get idle)" = 0 ] || fail "$tag/not-idle-while-busy" "idle=$(get idle)"
		mine=0
		;;
	esac
	freeze || fail "$tag/freeze" "echo freeze failed"
	[ -n "$sender" ] && wait $sender
	# Expected by the PM core's rules (drivers/base/power/main.c, drivers/acpi/device_pm.c):
	if [ $mine = 1 ] || [ $sp = 0 ]; then positive=1; else positive=0; fi
	if [ $positive = 1 ] && [ $ndc = 0 ] && [ $state != busy ]; then direct=1; else direct=0; fi
	pp=$(($(get prepare_positive) - pp0)) s=$(($(get suspend) - s0)) r=$(($(get resume) - r0))
	c=$(($(get complete) - c0)) dc=$(($(get direct_complete) - dc0))
	log_s=0; called suspend && log_s=1
	log_r=0; called resume && log_r=1
	log_dc=0; grep -q 'IPI0001:00: PM: direct-complete' $LOG && log_dc=1
	echo "MATRIX flags=$tag state=$state prepare_returned=$mine prepare_positive+$pp suspend+$s resume+$r complete+$c direct_complete+$dc last_direct_complete=$(get last_direct_complete) log_calling_suspend=$log_s log_calling_resume=$log_r log_direct_complete=$log_dc expected_direct=$direct"
	grep -a 'IPI0001:00' $LOG | sed 's/^/    log: /'
	check "$tag/$state/prepare-returned-$mine" "[ $pp = $mine ]"
	check "$tag/$state/complete-ran" "[ $c = 1 ]"
	if [ $direct = 1 ]; then
		check "$tag/$state/direct-complete-skipped-suspend" \
			"[ $s = 0 ] && [ $r = 0 ] && [ $dc = 1 ] && [ $(get last_direct_complete) = 1 ] && [ $log_s = 0 ] && [ $log_r = 0 ] && [ $log_dc = 1 ]"
	else
		check "$tag/$state/suspend-and-resume-ran" \
			"[ $s = 1 ] && [ $r = 1 ] && [ $dc = 0 ] && [ $(get last_direct_complete) = 0 ] && [ $log_s = 1 ] && [ $log_r = 1 ] && [ $log_dc = 0 ]"
	fi
	case $state in
	attn) # the command waiting at the BMC is fetched (no receiver: ripmi answers it with 0xC1)
		check "$tag/$state/command-fetched-after-resume" "bmcsim-ctl wait sent 1 5000 >/dev/null" ;;
	busy) # the request in flight was answered, once, with cc 0
		check "$tag/$state/request-in-flight-answered" "grep -q '^cc=00 ' /tmp/pm-send.out" ;;
	esac
}

for flags in 0:0 1:0 0:1 1:1; do
	ndc=${flags%:*} sp=${flags#*:}
	tag=ndc$ndc-sp$sp
	# A long attention watch, so a command injected while runtime-suspended stays unfetched
	# until the system suspend starts.
	reload no_direct_complete=$ndc smart_prepare=$sp rpm_watch_ms=60000 ||
		{ fail "$tag/load" "load failed"; continue; }
	check "$tag/driver-flags" "[ $(get driver_flags) = $(printf '%#x' $((ndc | sp << 1)) | sed 's/^0$/0x0/') ]"
	for state in idle attn busy; do
		run_case $tag $state $ndc $sp
	done
done

# 20 cycles under load: default flags, default watch.
reload || fail load "load failed"
rm -f /tmp/pm-stop
pm-load 3 /tmp/pm-stop >/tmp/pm-load.out 2>&1 &
loader=$!
sleep 1
s0=$(get suspend) dc0=$(get direct_complete)
serial=0
ok=0
for i in $(seq 1 20); do
	for k in 1 2; do
		serial=$((serial + 1))
		bmcsim-ctl inject 0 40 30 5 $(printf '%02x %02x' $((serial >> 8)) $((serial & 255))) >/dev/null
	done
	freeze && ok=$((ok + 1))
done
echo $serial >/tmp/pm-stop
wait $loader
lrc=$?
echo "STRESS $(cat /tmp/pm-load.out) cycles_ok=$ok suspend+$(($(get suspend) - s0)) failed_at_suspend=$(get failed_at_suspend)"
check stress/20-cycles "[ $ok = 20 ]"
# Each cycle runs suspend, or skips it by direct-complete when the loaders were frozen early
# enough for the device to runtime-suspend before prepare (seen on a loaded host).
check stress/suspend-or-direct-complete-each-cycle "[ $(($(get suspend) - s0 + $(get direct_complete) - dc0)) = 20 ]"
check stress/every-request-answered-once-every-command-delivered-once "[ $lrc = 0 ]"

# rmmod while runtime-suspended (and idle).
wait_rpm suspended || fail unload/runtime-suspended "$(rpm)"
check unload/rmmod-while-runtime-suspended "unload-ripmi && ! grep -q '^ripmi ' /proc/modules"

# unbind/rebind through sysfs.
reload || fail load "load failed"
wait_rpm suspended
drv=/sys/bus/platform/drivers/ripmi
check unbind/unbind "echo IPI0001:00 >$drv/unbind && [ ! -e $P/driver ] && [ ! -c /dev/ipmi0 ]"
check unbind/rebind "echo IPI0001:00 >$drv/bind && wait_dev && [ -e $P/driver ]"
check unbind/works-after-rebind "ipmitool -I open raw 6 1 >/dev/null"
check unbind/suspends-after-rebind 'wait_rpm suspended && freeze && [ "$(get complete)" = 1 ]'
unload-ripmi
