#!/bin/sh
# t-autoload.sh: ripmi loaded "the way udev would" from the guest's depmod'ed module tree
# (scripts/vm builds /lib/modules/$(uname -r) and carries kmod's modprobe as /sbin/modprobe):
# `modprobe -b MODALIAS` of the ACPI IPMI device, as udev's kmod builtin does (blacklist
# applied), with and without dist/modprobe.d/ripmi.conf.
#  - the alias resolves to both ripmi and ipmi_si;
#  - with the snippet: ripmi binds IPI0001:00, ipmi_si is not loaded, /dev/ipmi0 answers; an
#    explicit `modprobe ipmi_si` still loads it (the way back);
#  - without it: only one stack loads (ripmi exports ipmi_msghandler's API: the module loader
#    refuses the second with one line); depmod names ripmi for the API users, not for ipmi_si;
#  - with it: modprobe uses whichever stack is loaded and says why it loads nothing else.
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

# The two stacks exclude each other now (ripmi exports ipmi_msghandler's API): without the
# snippet, the first candidate modprobe loads binds, the other one is refused by the module
# loader with one line naming a duplicate symbol.
none
mark
$MP -b "$alias" 2>/dev/null
echo "# without the snippet: ripmi loaded: $(loaded ripmi && echo y || echo n), ipmi_si loaded: $(loaded ipmi_si && echo y || echo n), IPI0001:00 bound to '$(bound)'"
since | grep -a 'ipmi\|IPI0001' | sed 's/^/#   /'
if { loaded ripmi && ! loaded ipmi_msghandler && [ "$(bound)" = ripmi ]; } ||
	{ ! loaded ripmi && loaded ipmi_si && [ "$(bound)" = ipmi_si ]; }; then
	if since | grep -aq 'exports duplicate symbol'; then pass no-snippet-one-stack; else
		fail no-snippet-one-stack "no 'exports duplicate symbol' line"; fi
else
	fail no-snippet-one-stack "ripmi: $(loaded ripmi && echo y), ipmi_si: $(loaded ipmi_si && echo y), bound '$(bound)'"
fi

# depmod records ripmi (updates/) as the provider of the API users' symbols, and ipmi_si keeps
# needing only ipmi_msghandler (ripmi does not export ipmi_addr_src_to_str).
dep=/lib/modules/$(uname -r)/modules.dep
if grep -q '^kernel/drivers/char/ipmi/ipmi_devintf.ko: updates/src/ripmi.ko$' $dep &&
	grep -q '^kernel/drivers/char/ipmi/ipmi_watchdog.ko: updates/src/ripmi.ko$' $dep &&
	grep -q '^kernel/drivers/char/ipmi/ipmi_si.ko: kernel/drivers/char/ipmi/ipmi_msghandler.ko$' $dep; then
	pass depmod-providers
else
	fail depmod-providers "$(grep -E 'ipmi_(devintf|si)\.ko:' $dep | tr '\n' '|')"
fi

# With the snippet, on the C stack: 'modprobe ripmi' loads nothing and says why (exit 0: an API
# user's dependency on ripmi is then served by ipmi_msghandler), and 'modprobe ipmi_devintf'
# works on the C stack although modules.dep names ripmi for it.
cp /ripmi/dist/modprobe.d/ripmi.conf $SNIPPET
none
mark
if $MP ipmi_si && $MP ripmi 2>/tmp/$T.err && ! loaded ripmi && [ "$(bound)" = ipmi_si ] &&
	grep -q '^ripmi: not loaded: ipmi_msghandler (the C IPMI stack) is loaded' /tmp/$T.err &&
	! since | grep -aq 'exports duplicate symbol'; then
	pass snippet-ripmi-over-c
else
	fail snippet-ripmi-over-c "ripmi: $(loaded ripmi && echo y), bound '$(bound)', stderr: $(tr '\n' '|' </tmp/$T.err)"
fi
if $MP ipmi_devintf 2>/tmp/$T.err && loaded ipmi_devintf && ! loaded ripmi && mcinfo; then
	pass snippet-devintf-on-c
else
	fail snippet-devintf-on-c "ipmi_devintf: $(loaded ipmi_devintf && echo y), ripmi: $(loaded ripmi && echo y), $(tr '\n' '|' </tmp/$T.err) $(head -n 2 /tmp/mcinfo)"
fi
# ... and on ripmi: the C stack is refused by the module loader with one line naming ripmi (no
# modprobe rule can come first: kmod loads ipmi_si's dependency before any install command of
# ipmi_si, and ignores ipmi_msghandler's own, as it has a softdep); an API user loads on ripmi.
none
$MP ripmi
mark
if ! $MP ipmi_si 2>/dev/null && ! loaded ipmi_msghandler && [ "$(bound)" = ripmi ] &&
	[ "$(since | grep -ac 'ipmi_msghandler: exports duplicate symbol .* (owned by ripmi)')" = 1 ]; then
	pass c-over-ripmi-refused
else
	fail c-over-ripmi-refused "ipmi_msghandler: $(loaded ipmi_msghandler && echo y), bound '$(bound)', log: $(since | grep -a 'ipmi\|ripmi' | head -n 3 | tr '\n' '|')"
fi
if $MP ipmi_watchdog && [ -e /sys/module/ripmi/holders/ipmi_watchdog ]; then pass snippet-api-user-on-ripmi; else
	fail snippet-api-user-on-ripmi "ipmi_watchdog: $(loaded ipmi_watchdog && echo y), ripmi holders: $(ls /sys/module/ripmi/holders 2>&1)"; fi
rmmod ipmi_watchdog 2>/dev/null
rm -f $SNIPPET

# insmod has no snippet: the module loader refuses ripmi next to the C stack with one line.
none
$MP ipmi_si
mark
if ! insmod /lib/modules/ripmi.ko 2>/dev/null && ! loaded ripmi &&
	since | grep -aq 'ripmi: exports duplicate symbol .* (owned by ipmi_msghandler)'; then
	pass insmod-next-to-c-refused
else
	fail insmod-next-to-c-refused "ripmi: $(loaded ripmi && echo y), log: $(since | grep -a ripmi | head -n 3 | tr '\n' '|')"
fi
$MP ipmi_devintf
mcinfo && pass c-stack-unharmed || fail c-stack-unharmed "$(cat /tmp/mcinfo)"
use-stack ripmi || fail reload "use-stack ripmi failed"
