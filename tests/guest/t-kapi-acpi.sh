#!/bin/sh
# t-kapi-acpi.sh: the kernel's acpi_ipmi on ripmi's in-kernel API. acpi_ipmi asks
# ipmi_get_smi_info() for each interface and creates a user only for one whose addr_src is SI_ACPI
# with an ACPI handle: with max_users=1, that user makes the next open of /dev/ipmi0 fail with
# EBUSY, and removing acpi_ipmi gives the slot back.
T=kapi-acpi
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
loaded() { grep -q "^$1 " /proc/modules; }
why=$(kapi-ready acpi_ipmi) || { fail setup "$why"; exit 1; }
ls /sys/bus/platform/drivers/ripmi | grep -q '^IPI0001' || { echo "# skipped: no ACPI IPI0001 device bound"; exit 0; }
maxu=/sys/module/ripmi/parameters/max_users
old=$(cat $maxu)
echo 1 >$maxu
if ipmitool -I open raw 6 1 >/dev/null 2>&1; then pass slot-free-before; else fail slot-free-before "open failed with max_users=1 and no kernel user"; fi
if insmod /lib/modules/c-ipmi/acpi_ipmi.ko; then pass load; else fail load "insmod acpi_ipmi failed"; echo "$old" >$maxu; exit 1; fi
if ipmitool -I open raw 6 1 >/tmp/$T.busy 2>&1; then
	fail bound "acpi_ipmi holds no user (open still works with max_users=1)"
else
	pass bound
fi
if rmmod ripmi 2>/dev/null; then fail refcount "ripmi removed under acpi_ipmi"; exit 1; fi
pass refcount
if rmmod acpi_ipmi && ipmitool -I open raw 6 1 >/dev/null 2>&1; then pass unload; else fail unload "slot not given back"; fi
echo "$old" >$maxu
exit 0
