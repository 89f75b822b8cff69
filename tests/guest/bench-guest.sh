#!/bin/sh
# bench-guest.sh: the guest half of scripts/bench (not a test: prints measurements only).
# Alternates the C stack and ripmi on the same BMC for ROUNDS rounds each, running bench-rt
# (ITERATIONS measured Get Device ID round trips after WARMUP unmeasured ones) once per stack
# per round. Prints bench-rt's "BENCH-RT ok|error ..." lines (label = STACK/ROUND), plus
# "BENCH-RT error ..." lines of its own when a stack cannot be loaded or has no device.
#
# usage: bench-guest.sh ROUNDS ITERATIONS WARMUP
rounds=${1:-5} iters=${2:-5000} warm=${3:-200}
dev=${IPMI_DEV:-/dev/ipmi0}

stop_all() {
	grep -q '^ripmi ' /proc/modules && unload-ripmi
	unload-c-ipmi
}
wait_dev() {
	i=0
	while [ ! -c "$dev" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
one() { # STACK ROUND
	stop_all >/dev/null 2>&1
	if [ "$1" = c ]; then
		out=$(load-c-ipmi 2>&1) || {
			echo "BENCH-RT error label=$1/$2 dev=$dev what=load: load-c-ipmi failed: $(echo "$out" | tail -n1)"
			return
		}
	else
		out=$(load-ripmi 2>&1) || {
			echo "BENCH-RT error label=$1/$2 dev=$dev what=load: load-ripmi failed: $(echo "$out" | tail -n1)"
			return
		}
	fi
	wait_dev
	bench-rt "$dev" "$iters" "$warm" "$1/$2"
}

echo "BENCH-INFO rounds=$rounds iterations=$iters warmup=$warm kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
r=1
while [ $r -le "$rounds" ]; do
	one c $r
	one ripmi $r
	r=$((r + 1))
done
stop_all >/dev/null 2>&1
echo "BENCH-DONE"
