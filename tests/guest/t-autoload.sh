#!/bin/sh
# t-autoload.sh: ripmi loaded "the way udev would" from the guest's depmod'ed module tree
# (scripts/vm builds /lib/modules/$(uname -r) and carries kmod's modprobe as /sbin/modprobe):
# `modprobe -b MODALIAS` of the ACPI IPMI device, as udev's kmod builtin does (blacklist
# applied), with and without dist/modprobe.d/ripmi.conf.
#  - the alias resolves to both ripmi and ipmi_si;
#  - with the snippet: ripmi binds IPI0001:00, ipmi_si is not loaded, /dev/ipmi0 answers; an
#    explicit `modprobe ipmi_si` still loads it (the way back);
#  - without it: both load (what happens is recorded); with ipmi_si bound first, ripmi declines
#    politely: one line naming the holder, for the ACPI device and for ports=.
# Leaves ripmi loaded (insmod'ed), as run-guest-tests expects.
T=autoload
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
. /ripmi/config
if [ "${RIPMI_NO_ACPI:-0}" = 1 ]; then echo "# skipped: no ACPI IPMI device"; exit 0; fi
MP=/sbin/modprobe
SNIPPET=/etc/modprobe.d/ripmi.conf
dev=/sys/bus/platform/devices/IPI0001:00
loaded() { grep -q "^$1 " /proc/modules; }
bound() { basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null; }
none() { use-stack none; rm -f /tmp/mark; }
mark() { dmesg | wc -l >/tmp/mark; } # kernel log lines since the mark: since
since() { dmesg | tail -n +$(($(cat /tmp/mark) + 1)); }
mcinfo() { i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	ipmitool -I open mc info >/tmp/mcinfo 2>&1 && grep -q 'Device ID' /tmp/mcinfo; }

[ -x $MP ] && $MP -V | grep -q kmod || { fail kmod "no kmod modprobe at $MP"; exit 0; }
alias=$(sed -n 's/^MODALIAS=//p' $dev/uevent)
[ "$alias" = "$(cat /sys/bus/acpi/devices/IPI0001:00/modalias)" ] ||
	fail modalias "platform uevent '$alias' vs ACPI modalias '$(cat /sys/bus/acpi/devices/IPI0001:00/modalias)'"
echo "# MODALIAS=$alias; modules.alias: $(grep -c . /lib/modules/"$(uname -r)"/modules.alias) lines"
res=$($MP -R "$alias" | sort | tr '\n' ' ')
[ "$res" = "ipmi_si ripmi " ] && pass alias-resolves-to-both || fail alias-resolves-to-both "'$res'"

# With the snippet: ripmi only.
none
cp /ripmi/dist/modprobe.d/ripmi.conf $SNIPPET
$MP -b "$alias"
if loaded ripmi && ! loaded ipmi_si && [ "$(bound)" = ripmi ] && mcinfo; then
	pass snippet-ripmi-binds
else
	fail snippet-ripmi-binds "ripmi loaded: $(loaded ripmi && echo y), ipmi_si: $(loaded ipmi_si && echo y), bound to '$(bound)'"
fi
# Plain modprobe (no -b) honours blacklist for aliases too.
none
$MP "$alias"
if loaded ripmi && ! loaded ipmi_si; then pass snippet-plain-modprobe; else
	fail snippet-plain-modprobe "ripmi: $(loaded ripmi && echo y), ipmi_si: $(loaded ipmi_si && echo y)"; fi
# The way back: an explicit modprobe of ipmi_si is not blacklisted.
none
if $MP ipmi_si && $MP ipmi_devintf && [ "$(bound)" = ipmi_si ] && mcinfo; then pass snippet-explicit-ipmi_si; else
	fail snippet-explicit-ipmi_si "ipmi_si: $(loaded ipmi_si && echo y), bound to '$(bound)'"; fi
rm -f $SNIPPET

# Without the snippet: both candidates load; whichever registers first binds.
none
mark
$MP -b "$alias"
echo "# without the snippet: ripmi loaded: $(loaded ripmi && echo y || echo n), ipmi_si loaded: $(loaded ipmi_si && echo y || echo n), IPI0001:00 bound to '$(bound)'"
since | grep -a 'ipmi\|IPI0001' | sed 's/^/#   /'
if loaded ripmi && loaded ipmi_si && [ -n "$(bound)" ]; then pass no-snippet-both-load; else
	fail no-snippet-both-load "ripmi: $(loaded ripmi && echo y), ipmi_si: $(loaded ipmi_si && echo y), bound '$(bound)'"; fi

# ipmi_si first (its alias, or an operator): ripmi, loaded after, leaves the BMC alone.
none
$MP ipmi_si
mark
$MP -b "$alias"
line=$(since | grep -a 'ripmi: IPI0001:00 (KCS at 0xca2) is bound to ipmi_si: ripmi leaves it alone')
if [ "$(bound)" = ipmi_si ] && loaded ripmi && [ -n "$line" ]; then pass decline-acpi-bound; else
	fail decline-acpi-bound "bound '$(bound)', log: $(since | grep -a ripmi | tr '\n' '|')"; fi
echo "# $line"
# ports= at the KCS ipmi_si holds: probe declines with one line naming the holder, no EBUSY.
rmmod ripmi
mark
insmod /lib/modules/ripmi.ko ports=0xca2
log=$(since | grep -a ripmi)
echo "$log" | sed 's/^/#   /'
if echo "$log" | grep -q 'ripmi ripmi: KCS at 0xca2 is held by ipmi_si (bound to IPI0001:00): ripmi leaves it alone' &&
	! echo "$log" | grep -q 'error -16\|EBUSY\|in use'; then pass decline-ports-held; else
	fail decline-ports-held "$(echo "$log" | tr '\n' '|')"; fi
$MP ipmi_devintf
mcinfo && pass c-stack-unharmed || fail c-stack-unharmed "$(cat /tmp/mcinfo)"
use-stack ripmi || fail reload "use-stack ripmi failed"
