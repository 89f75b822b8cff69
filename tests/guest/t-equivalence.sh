#!/bin/sh
# t-equivalence.sh: real IPMI clients (ipmitool -I open, FreeIPMI --driver-type=OPENIPMI) must
# see the same thing through ripmi as through the C stack, on the same BMC in the same boot.
#
# Runs a fixed list of commands on the C stack (load-c-ipmi), then on ripmi (load-ripmi), and
# compares each command's output (stdout+stderr) and exit status: one RIPMI-RESULT line per
# command. Leaves ripmi loaded at the end, as run-guest-tests expects.
#
# usage: t-equivalence.sh [--c-vs-c] [--show]
#   --c-vs-c  run the list twice on the C stack (validates the list and the normalisation:
#             every command must compare equal)
#   --show    print every saved output (to inspect what the commands print)
#
# What legitimately varies between two runs, found by running the list twice on the C stack in
# one boot (QEMU ipmi-bmc-sim), and how it is handled (see normalise() below):
#  - `sel time get` prints the BMC's clock (the sim returns the host's current time), which moves
#    between runs. The line must still be a well-formed "MM/DD/YYYY HH:MM:SS" timestamp; only
#    the value is masked.
#  - `bmc-info` ends with a "Channel Information" section. The sim answers Get Channel Info
#    with C1, and FreeIPMI 1.6.13 then prints its uninitialised buffers for the channels
#    (garbage "Channel Number : 250", "Active Session Count : 190", vendor ids...), which
#    differs on every run whatever the driver. That section is cut off after its heading; the
#    device-id part before it is compared as is.
#  - `fru print`: the output is identical, but ipmitool's exit status is not reproducible on
#    the C stack: consecutive runs in one boot with byte-identical output exited 0 and 1 (the
#    sim's FRU area makes ipmitool's FRU walk fail; the status it returns then is not
#    determined by what the driver delivered). For this command exit statuses 0 and 1 count as
#    equal; any other status, or any output difference, still fails.
# Nothing else varied: the sim's SEL is empty, its SDR/sensor readings, watchdog and chassis
# state are static, and no command prints a per-run sequence number.
pass() { echo "RIPMI-RESULT pass equivalence/$1"; }
fail() { echo "RIPMI-RESULT fail equivalence/$1: $2"; }

c_vs_c=0 show=0
for a in "$@"; do
	case $a in
	--c-vs-c) c_vs_c=1 ;;
	--show) show=1 ;;
	*) echo "usage: t-equivalence.sh [--c-vs-c] [--show]" >&2; exit 2 ;;
	esac
done

# name|command (run with sh -c, stdout and stderr together)
LIST='mc-info|ipmitool -I open mc info
chassis-status|ipmitool -I open chassis status
sdr-list|ipmitool -I open sdr list
sel-info|ipmitool -I open sel info
sel-list|ipmitool -I open sel list
fru-print|ipmitool -I open fru print
raw-6-1|ipmitool -I open raw 0x06 0x01
mc-getenables|ipmitool -I open mc getenables
mc-watchdog-get|ipmitool -I open mc watchdog get
chassis-power-status|ipmitool -I open chassis power status
sensor-list|ipmitool -I open sensor list
sel-time-get|ipmitool -I open sel time get
ipmb-0x40-raw-6-1|ipmitool -I open -t 0x40 -b 0 raw 6 1
freeipmi-bmc-info|bmc-info --driver-type=OPENIPMI
freeipmi-raw-6-1|ipmi-raw --driver-type=OPENIPMI 0 6 1
freeipmi-chassis-status|ipmi-chassis --driver-type=OPENIPMI --get-chassis-status'

work=/tmp/equivalence
rm -rf "$work"
mkdir -p "$work"

# normalise NAME FILE: masks the fields that legitimately change between runs (see the header).
# A field that does not have the expected shape is left alone, so it shows up in the diff.
normalise() {
	case $1 in
	sel-time-get)
		# "11/24/26 11:05:09 UTC": only a well-formed timestamp is masked.
		sed -E 's#^[0-9]{2}/[0-9]{2}/[0-9]{2,4} [0-9]{2}:[0-9]{2}:[0-9]{2}( UTC)?$#<BMC-TIME>#' \
			"$2" >"$2.n"
		mv "$2.n" "$2"
		;;
	freeipmi-bmc-info)
		# Everything from the "Channel Information" heading on is masked (the heading
		# itself must still be there, and everything before it is compared).
		sed -E '/^Channel Information$/,$c\
Channel Information <masked: uninitialised memory, see header>' "$2" >"$2.n"
		mv "$2.n" "$2"
		;;
	esac
}

run_list() { # DIR
	mkdir -p "$1"
	echo "$LIST" | while IFS='|' read -r name cmd; do
		if command -v timeout >/dev/null; then
			timeout 120 sh -c "$cmd" >"$1/$name.out" 2>&1 </dev/null
		else
			sh -c "$cmd" >"$1/$name.out" 2>&1 </dev/null
		fi
		echo $? >"$1/$name.rc"
		cp "$1/$name.out" "$1/$name.raw"
		normalise "$name" "$1/$name.out"
	done
}

wait_dev() {
	i=0
	while [ ! -c "${IPMI_DEV:-/dev/ipmi0}" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

stop_all() {
	if grep -q '^ripmi ' /proc/modules; then unload-ripmi || return 1; fi
	unload-c-ipmi
}

setup_err=
stop_all || setup_err="could not unload the running stack"
if [ -z "$setup_err" ]; then
	load-c-ipmi || setup_err="load-c-ipmi failed"
fi
if [ -n "$setup_err" ]; then
	fail setup "$setup_err"
	exit 1
fi
run_list "$work/a"
label_a=c
if [ $c_vs_c = 1 ]; then
	label_b=c2
	run_list "$work/b"
	unload-c-ipmi || fail teardown "unload-c-ipmi failed"
	load-ripmi >/dev/null || fail teardown "load-ripmi failed"
else
	label_b=ripmi
	unload-c-ipmi || { fail setup "unload-c-ipmi failed"; exit 1; }
	if ! load-ripmi >/dev/null; then
		fail setup "load-ripmi failed"
		exit 1
	fi
	wait_dev
	run_list "$work/b"
fi

echo "$LIST" | while IFS='|' read -r name cmd; do
	rca=$(cat "$work/a/$name.rc") rcb=$(cat "$work/b/$name.rc")
	if [ $show = 1 ]; then
		echo "# ---- $name ($cmd): $label_a exit $rca"
		sed 's/^/# | /' "$work/a/$name.raw"
		cmp -s "$work/a/$name.raw" "$work/b/$name.raw" ||
			diff "$work/a/$name.raw" "$work/b/$name.raw" | sed 's/^/# raw diff | /'
	fi
	if [ "$name" = fru-print ]; then # see the header
		case $rca in 1) rca=0 ;; esac
		case $rcb in 1) rcb=0 ;; esac
	fi
	if [ "$rca" = "$rcb" ] && cmp -s "$work/a/$name.out" "$work/b/$name.out"; then
		pass "$name"
	else
		# busybox diff prints unified diffs by default.
		d=$(diff "$work/a/$name.out" "$work/b/$name.out" | grep -E '^[-+<>]' |
			grep -vE '^(---|\+\+\+) ' | head -n 6 |
			sed "s/^[<-]/$label_a: /; s/^[>+]/$label_b: /" | tr '\n' ' ' | cut -c1-400)
		fail "$name" "exit $label_a=$rca $label_b=$rcb; $d"
	fi
done
