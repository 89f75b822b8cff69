#!/bin/sh
# kapi-poweroff.sh: the kernel's ipmi_poweroff on ripmi's in-kernel API powers the machine off
# through the BMC (Chassis Control, power down). Not a t-* program: it ends the VM. Run from the
# host in a machine without ACPI (whose kernel would otherwise power off through ACPI first, and
# without ACPI cannot power off at all, so a VM that ends is one the BMC switched off):
#   scripts/vm --no-acpi --timeout 300 -- /ripmi/tests/kapi-poweroff.sh
# The VM ends within seconds with ipmi_poweroff (QEMU's ipmi-bmc-sim powers the machine off when
# told to); without it (kapi-poweroff.sh --without) the kernel halts and the VM runs into the
# timeout.
if [ "${1:-}" != --without ]; then
	insmod /lib/modules/c-ipmi/ipmi_poweroff.ko || { echo "RIPMI-RESULT fail kapi-poweroff/load"; exit 1; }
	sleep 1
	dmesg | grep -i 'poweroff' | tail -n 3
fi
sync
poweroff -f
