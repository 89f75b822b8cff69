#!/bin/sh
# t-ext-kapi-watchdog.sh: the kernel's ipmi_watchdog on ripmi's in-kernel API (with ripmi's own
# /dev/ipmi0 for ipmitool). The first write to /dev/watchdog starts the BMC's watchdog with the
# module's timeout (C starts it at the first heartbeat, not at open); a write resets it (the countdown goes back up); the magic close ('V') stops it. The
# BMC's state is read with `ipmitool mc watchdog get` (tools/bmcsim takes no action on expiry).
T=ext-kapi-watchdog
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
why=$(kapi-ready ipmi_watchdog) || { fail setup "$why"; exit 1; }
wd() { ipmitool -I open mc watchdog get >/tmp/$T.get 2>&1; }
state() { sed -n 's/^Watchdog Timer Is: *//p' /tmp/$T.get; }
# "Present Countdown: 26.5 sec" (ipmitool 1.8.19 prints tenths): the whole seconds.
count() { sed -n 's/^Present Countdown: *\([0-9]*\)[.0-9]* sec.*/\1/p' /tmp/$T.get; }
initial() { sed -n 's/^Initial Countdown: *\([0-9]*\)[.0-9]* sec.*/\1/p' /tmp/$T.get; }

if insmod /lib/modules/c-ipmi/ipmi_watchdog.ko timeout=30 pretimeout=0; then pass load; else fail load "insmod failed"; exit 1; fi
i=0; while [ ! -c /dev/watchdog ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -c /dev/watchdog ] || { fail node "no /dev/watchdog: $(dmesg | tail -n 5)"; rmmod ipmi_watchdog; exit 1; }
exec 3>/dev/watchdog
wd
if state | grep -q 'Stopped'; then pass open-does-not-start; else fail open-does-not-start "$(cat /tmp/$T.get)"; fi
printf x >&3
wd
if state | grep -q 'Started'; then pass started; else fail started "$(cat /tmp/$T.get)"; fi
if [ "$(initial)" = 30 ]; then pass timeout; else fail timeout "initial countdown '$(initial)': $(cat /tmp/$T.get)"; fi
sleep 4
wd; before=$(count)
printf x >&3
wd; after=$(count)
if [ -n "$before" ] && [ -n "$after" ] && [ "$before" -le 27 ] && [ "$after" -ge 28 ]; then
	pass ping
else
	fail ping "countdown $before before the ping, $after after: $(cat /tmp/$T.get)"
fi
printf V >&3
exec 3>&-
wd
if state | grep -q 'Stopped'; then pass magic-close; else fail magic-close "$(cat /tmp/$T.get)"; fi
if rmmod ripmi 2>/dev/null; then fail refcount "ripmi removed under ipmi_watchdog"; exit 1; fi
pass refcount
if rmmod ipmi_watchdog; then pass unload; else fail unload "rmmod ipmi_watchdog failed"; fi
exit 0
