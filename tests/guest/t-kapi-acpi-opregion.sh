#!/bin/sh
# t-kapi-acpi-opregion.sh: an ACPI IPMI operation-region access through acpi_ipmi, on the C stack
# and on ripmi. scripts/vm adds an SSDT (tests/acpi/ipmi-opregion.asl) whose thermal zone \_TZ.IPTZ
# does a Get Device ID through an IPMI region in its _TMP once a handler is installed for the
# region (_REG(7, 1), run when acpi_ipmi loads): each read of the zone's temp then gives
# device ID * 100, the device ID coming from the BMC; before acpi_ipmi and after its removal
# (_REG(7, 0)) _TMP answers 26800 (3000 dK) without touching the region, and 27800 if the access
# came back with an error. For each stack: the fallback before, the BMC's device ID (ipmitool
# raw 6 1) on every read with acpi_ipmi loaded, one request to the BMC per read (ripmi: debugfs
# stats "sent", exactly; C: ipmi_si's complete_transactions, at least, as it also counts its
# flag fetches), the fallback again after rmmod acpi_ipmi; C and ripmi read the same values; and
# no ACPI error, warning or firmware-bug line in the kernel log, at boot or after.
T=kapi-acpi-opregion
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
loaded() { grep -q "^$1 " /proc/modules; }
. /ripmi/config
FALLBACK=26800 ERRVAL=27800 N=5
if [ "${RIPMI_NO_ACPI:-0}" = 1 ]; then
	echo "# skipped: no ACPI (scripts/vm --no-acpi)"
	exit 0
fi
if [ ! -f /lib/modules/c-ipmi/acpi_ipmi.ko ]; then
	fail setup "no acpi_ipmi.ko in the VM (the kernel config builds it: scripts/kconfig/common.config)"
	exit 1
fi
# The SSDT's zone: type acpitz, ACPI path \_TZ_.IPTZ.
zone=
for z in /sys/class/thermal/thermal_zone*; do
	[ "$(cat $z/type 2>/dev/null)" = acpitz ] || continue
	p=$(cat $z/device/firmware_node/path $z/device/path 2>/dev/null | head -n1)
	case $p in *IPTZ*) zone=$z ;; esac
done
if [ -z "$zone" ]; then
	fail setup "no thermal zone \\_TZ.IPTZ (scripts/vm adds tests/acpi/ipmi-opregion.asl with -acpitable; dmesg: $(dmesg | grep -ai 'thermal\|SSDT' | tr '\n' '|' | head -c 300))"
	exit 1
fi
echo "# zone $zone"
si=/sys/bus/platform/devices/IPI0001:00
[ -d $si ] || { echo "# skipped: no ACPI IPI0001 device"; exit 0; }
dbg=/sys/kernel/debug/ripmi-ipmi0
# count STACK: requests the interface sent to the BMC so far.
count() {
	if [ "$1" = ripmi ]; then sed -n 's/^sent //p' $dbg/stats 2>/dev/null
	else cat $si/complete_transactions 2>/dev/null; fi
}
acpi_errors() { dmesg | grep -aE 'ACPI (BIOS )?(Error|Warning)|ACPI Exception|AE_[A-Z_]+|Firmware Bug'; }
before=$(acpi_errors)
if [ -n "$before" ]; then fail boot-acpi-errors "$(echo "$before" | tr '\n' '|' | head -c 400)"; else pass boot-acpi-errors; fi

# run STACK: prints "devid=D before=V reads=V,V,... after=V" to /tmp/$T.STACK.
run() {
	s=$1
	use-stack $s || { fail $s/load "use-stack $s failed"; return 1; }
	loaded acpi_ipmi && rmmod acpi_ipmi
	raw=$(ipmitool raw 6 1 2>&1) || { fail $s/devid "ipmitool raw 6 1: $raw"; return 1; }
	set -- $raw
	devid=$((0x$1))
	want=$((devid * 100))
	echo "# $s: Get Device ID: $raw; expect $want with acpi_ipmi"
	v0=$(cat $zone/temp 2>&1)
	if [ "$v0" = $FALLBACK ]; then pass $s/fallback-before; else fail $s/fallback-before "temp $v0 without acpi_ipmi, want $FALLBACK"; fi
	if insmod /lib/modules/c-ipmi/acpi_ipmi.ko; then pass $s/load; else fail $s/load "insmod acpi_ipmi failed"; return 1; fi
	c0=$(count $s)
	vals= bad=
	i=0
	while [ $i -lt $N ]; do
		v=$(cat $zone/temp 2>&1)
		vals="$vals${vals:+,}$v"
		[ "$v" = $want ] || bad=1
		i=$((i + 1))
	done
	c1=$(count $s)
	if [ -z "$bad" ]; then pass $s/read; else fail $s/read "temps $vals, want $want ($ERRVAL would mean the access came back with an error)"; fi
	if [ -z "$c0" ] || [ -z "$c1" ]; then
		fail $s/bmc-requests "no counter (ripmi: $dbg/stats, C: $si/complete_transactions)"
	elif [ $s = ripmi ] && [ $((c1 - c0)) -ne $N ]; then
		fail $s/bmc-requests "$((c1 - c0)) requests sent for $N reads"
	elif [ $((c1 - c0)) -lt $N ]; then
		fail $s/bmc-requests "$((c1 - c0)) transactions for $N reads"
	else
		echo "# $s: $((c1 - c0)) BMC transactions for $N reads"
		pass $s/bmc-requests
	fi
	if rmmod acpi_ipmi; then pass $s/unload; else fail $s/unload "rmmod acpi_ipmi failed"; fi
	v2=$(cat $zone/temp 2>&1)
	if [ "$v2" = $FALLBACK ]; then pass $s/fallback-after; else fail $s/fallback-after "temp $v2 after rmmod acpi_ipmi, want $FALLBACK"; fi
	echo "devid=$devid before=$v0 reads=$vals after=$v2" >/tmp/$T.$s
	echo "# $s: $(cat /tmp/$T.$s)"
}

rm -f /tmp/$T.c /tmp/$T.ripmi
run c
run ripmi
if [ -s /tmp/$T.c ] && cmp -s /tmp/$T.c /tmp/$T.ripmi; then
	pass same-as-c
else
	fail same-as-c "C: $(cat /tmp/$T.c 2>/dev/null), ripmi: $(cat /tmp/$T.ripmi 2>/dev/null)"
fi
after=$(acpi_errors)
if [ -n "$after" ]; then fail acpi-errors "$(echo "$after" | tr '\n' '|' | head -c 400)"; else pass acpi-errors; fi
# Leave ripmi loaded, as the boot began.
use-stack ripmi || fail reload "use-stack ripmi failed"
exit 0
