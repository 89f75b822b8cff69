# shellcheck shell=bash
# What the BMC simulator receives at a panic, shared by tests/panic/run and tests/watchdog/run.
# scripts/guest/panic-now crashes the kernel with 'echo c > /proc/sysrq-trigger', whose panic
# string is PANIC_MSG (panic() drops the format's trailing newline).
PANIC_MSG='sysrq triggered crash'

# The requests after the last 'control: clear' of a simulator log, as
# 'netfn=.. lun=. cmd=.. data=[..]' lines (not the QEMU sequence number or the time).
requests() {
	awk '/control: clear/ { n = 0; delete r; next }
		/<- req / { sub(/.*<- req seq=[0-9a-f]* /, ""); r[n++] = $0 }
		END { for (i = 0; i < n; i++) print r[i] }' "$1"
}

# The bytes of a string, as the simulator logs them.
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# C's send_panic_events() Platform Event Message 04/02 for PANIC_MSG: generator 0x41, IPMI 1.0
# event (03), OS Critical Stop (20), the string's first byte, sensor-specific (6f), runtime stop
# OEM bytes (a1), then its bytes 1 and 2.
panic_event() {
	local m=$PANIC_MSG
	echo "netfn=04 lun=0 cmd=02 data=[41 03 20 $(hex "${m:0:1}") 6f a1 $(hex "${m:1:1}") $(hex "${m:2:1}")]"
}

# For panic_op=string after the event: Get Device ID (the simulator's Additional Device Support
# 0x07: a SEL device, not an event generator, so no Get Event Receiver), then Add SEL Entry 0a/44
# OEM records of 16 bytes holding PANIC_MSG, 11 characters each, the last one padded with NUL,
# sequence from 0.
panic_string_records() {
	local msg=$PANIC_MSG j=0 chunk pad
	echo "netfn=06 lun=0 cmd=01 data=[]"
	while [ -n "$msg" ]; do
		chunk=$(hex "${msg:0:11}")
		pad=$((11 - ${#msg} < 0 ? 0 : 11 - ${#msg}))
		for _ in $(seq 1 $pad); do chunk+=" 00"; done
		printf 'netfn=0a lun=0 cmd=44 data=[00 00 f0 20 %02x %s]\n' $j "$chunk"
		msg=${msg:11}
		j=$((j + 1))
	done
}
