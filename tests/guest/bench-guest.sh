#!/bin/sh
# bench-guest.sh: the guest half of scripts/bench (not a test: prints measurements only). POSIX sh.
#
# usage: bench-guest.sh [--workloads rt|bulk|rt,bulk] [--rounds R] [--iterations N] [--warmup W]
#                       [--max-seconds S] [--idle S] [--bulk-reps N] [--bulk-timeout S]
#                       [--sdr-sensors N] [--sel-entries N] [--ripmi-params P] [--c-params P]
#                       [--mode NAME]
#
# rt: ROUNDS rounds; each measures the guest with no IPMI stack loaded for --idle seconds
#   (label none/ROUND), then for the C stack and for ripmi in turn: load it, wait 1 s, measure it
#   loaded and idle for --idle seconds (bench-stat idle: "BENCH-IDLE ok|error", label STACK/ROUND;
#   --idle 0 skips these), then run bench-rt (ITERATIONS measured Get Device ID round trips after
#   WARMUP unmeasured ones, each part stopping after MAX_SECONDS if not done): "BENCH-RT ok|error".
# bulk: the workloads ipmitool sdr elist, ipmitool sel list, ipmi-sensors and ipmi-sel, timed with
#   bench-stat run: repetition 0 is a warm-up (it also fills FreeIPMI's SDR cache), then
#   BULK_REPS measured repetitions; each repetition loads C, runs the four, then ripmi, the four.
#   "BENCH-BULK ok label=STACK/WORKLOAD rep=K wall_s=... records=..." or "BENCH-BULK error ...
#   what=...". A run counts only if it exits 0 and lists at least --sdr-sensors sensors or
#   --sel-entries SEL entries (the simulator must have been populated). A workload that timed out
#   in the warm-up is skipped for that stack.
# The stacks are loaded with load-c-ipmi C_PARAMS (parameters for ipmi_si) and
# load-ripmi RIPMI_PARAMS. "BENCH-NOTE" lines report what the kernel said about the parameters
# and whether C ran its kipmid thread.
workloads=rt rounds=5 iters=20000 warm=500 maxs=20 idle=5 reps=3 btimeout=300
sdr_n=100 sel_n=500 ripmi_params= c_params= mode=
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "bench-guest.sh: $1 needs a value" >&2; exit 2; }
	case $1 in
	--workloads) workloads=$2 ;;
	--rounds) rounds=$2 ;;
	--iterations) iters=$2 ;;
	--warmup) warm=$2 ;;
	--max-seconds) maxs=$2 ;;
	--idle) idle=$2 ;;
	--bulk-reps) reps=$2 ;;
	--bulk-timeout) btimeout=$2 ;;
	--sdr-sensors) sdr_n=$2 ;;
	--sel-entries) sel_n=$2 ;;
	--ripmi-params) ripmi_params=$2 ;;
	--c-params) c_params=$2 ;;
	--mode) mode=$2 ;;
	*) echo "bench-guest.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift 2
done
dev=${IPMI_DEV:-/dev/ipmi0}
[ -f /ripmi/config ] && . /ripmi/config
cache=/tmp/freeipmi-cache
seen_kipmid= seen_ripmi=

stop_all() {
	grep -q '^ripmi ' /proc/modules && unload-ripmi
	unload-c-ipmi
}
wait_dev() {
	i=0
	while [ ! -c "$dev" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
# load STACK: unloads everything, loads STACK; on failure sets loaderr and fails.
load() {
	stop_all >/dev/null 2>&1
	if [ "$1" = c ]; then
		# shellcheck disable=SC2086 # the parameters are words on purpose
		out=$(load-c-ipmi $c_params 2>&1)
	else
		# shellcheck disable=SC2086
		out=$(load-ripmi $ripmi_params 2>&1)
	fi || {
		loaderr="load: load-$1 failed: $(echo "$out" | tail -n1)"
		return 1
	}
	wait_dev
	if [ "$1" = ripmi ] && [ -z "$seen_ripmi" ]; then
		seen_ripmi=1
		k=$(dmesg | grep -a 'ripmi.*: /dev/ipmi[0-9]* ready' | tail -n1 | sed 's/^\[[ 0-9.]*\] //')
		[ -z "$k" ] || echo "BENCH-NOTE $k"
	fi
	if [ "$1" = c ] && [ -z "$seen_kipmid" ]; then
		seen_kipmid=1
		k=$(cat /proc/[0-9]*/comm 2>/dev/null | grep '^kipmi[0-9]' | head -n1)
		if [ -n "$k" ]; then
			echo "BENCH-NOTE the C stack runs its kipmid thread ($k)"
		else
			echo "BENCH-NOTE the C stack runs no kipmid thread (interrupt-driven)"
		fi
	fi
	return 0
}

rt_round() { # ROUND
	if [ "$idle" != 0 ]; then
		stop_all >/dev/null 2>&1
		sleep 1
		bench-stat idle "$idle" "none/$1"
	fi
	for s in c ripmi; do
		load $s || {
			echo "BENCH-RT error label=$s/$1 dev=$dev what=$loaderr"
			continue
		}
		if [ "$idle" != 0 ]; then
			sleep 1
			bench-stat idle "$idle" "$s/$1"
		fi
		bench-rt "$dev" "$iters" "$warm" "$s/$1" "$maxs"
	done
}

# The workloads: NAME, what it lists (sdr or sel), header lines, command.
run_workload() { # STACK NAME REP
	case $2 in
	sdr-elist) kind=sdr hdr=0; set -- "$@" ipmitool -I open sdr elist ;;
	sel-list) kind=sel hdr=0; set -- "$@" ipmitool -I open sel list ;;
	ipmi-sensors | ipmi-sel)
		kind=sdr hdr=1
		[ "$2" = ipmi-sel ] && kind=sel
		set -- "$@" "$2" --driver-type=OPENIPMI --driver-device="$dev" \
			--sdr-cache-directory="$cache" --quiet-cache --sdr-cache-recreate
		;;
	esac
	stack=$1 name=$2 rep=$3
	shift 3
	label=$stack/$name
	case " $skip " in *" $label "*)
		echo "BENCH-BULK error label=$label rep=$rep what=skipped: timed out in the warm-up"
		return ;;
	esac
	line=$(bench-stat run "$label" "$btimeout" /tmp/bench-bulk.out "$@")
	case $line in "BENCH-RUN label="*) ;; *) echo "BENCH-BULK error label=$label rep=$rep what=bench-stat: $line"; return ;; esac
	rc=$(echo "$line" | sed -n 's/.* rc=\([0-9]*\).*/\1/p')
	lines=$(echo "$line" | sed -n 's/.* lines=\([0-9]*\).*/\1/p')
	records=$((lines - hdr))
	[ $records -lt 0 ] && records=0
	want=$sdr_n
	[ $kind = sel ] && want=$sel_n
	rest=${line#"BENCH-RUN label=$label "}
	if [ "$rc" != 0 ]; then
		[ "$rc" = 124 ] && [ "$rep" = 0 ] && skip="$skip $label"
		what="exit status $rc"
		[ "$rc" = 124 ] && what="timed out after $btimeout s"
		echo "BENCH-BULK error label=$label rep=$rep what=$what: $(tail -n1 /tmp/bench-bulk.out | tr -d '\r')"
	elif [ $records -lt "$want" ]; then
		echo "BENCH-BULK error label=$label rep=$rep what=$records $kind records, expected at least $want (simulator not populated?): $(tail -n1 /tmp/bench-bulk.out | tr -d '\r')"
	else
		echo "BENCH-BULK ok label=$label rep=$rep records=$records $rest"
	fi
}

bulk() {
	skip=
	rm -rf "$cache"
	mkdir -p "$cache"
	rep=0
	while [ $rep -le "$reps" ]; do
		for s in c ripmi; do
			load $s || {
				for w in sdr-elist sel-list ipmi-sensors ipmi-sel; do
					echo "BENCH-BULK error label=$s/$w rep=$rep what=$loaderr"
				done
				continue
			}
			for w in sdr-elist sel-list ipmi-sensors ipmi-sel; do
				run_workload $s $w $rep
			done
		done
		rep=$((rep + 1))
	done
}

echo "BENCH-INFO mode=${mode:-?} bmc=${RIPMI_BMC:-?} bmc_irq=${RIPMI_BMC_IRQ:-?} workloads=$workloads rounds=$rounds iterations=$iters warmup=$warm max_seconds=$maxs idle_s=$idle bulk_reps=$reps sdr_sensors=$sdr_n sel_entries=$sel_n kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "BENCH-PARAMS ripmi=$ripmi_params"
echo "BENCH-PARAMS c=$c_params"
case ",$workloads," in *,rt,*)
	r=1
	while [ $r -le "$rounds" ]; do
		rt_round $r
		r=$((r + 1))
	done
	;;
esac
case ",$workloads," in *,bulk,*) bulk ;; esac
stop_all >/dev/null 2>&1
dmesg | grep -a -i 'unknown parameter' | sed 's/^\[[ 0-9.]*\] //' | sort -u | sed 's/^/BENCH-NOTE kernel: /'
echo "BENCH-DONE"
