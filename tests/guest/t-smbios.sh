#!/bin/sh
# t-smbios.sh: SMBIOS type 38 discovery.
#  - With ACPI (the normal boots): QEMU describes the KCS twice, ACPI IPI0001 and SMBIOS; ripmi
#    binds it once, through ACPI (C: "Removing SMBIOS-specified kcs state machine in favor of
#    ACPI"): no ripmi-smbios device, one /dev/ipmiN, and the one log line saying so.
#  - Without ACPI (scripts/vm --no-acpi; run by name: run-guest-tests smbios): only SMBIOS
#    describes it. The C stack (ipmi_si binding the kernel's dmi-ipmi-si.0, trydmi) and ripmi
#    (its own ripmi-smbios.0) must find the same interface: port, spacing (the two reserved
#    ports), IRQ, and the same `ipmitool mc info` answer through /dev/ipmi0.
# Leaves ripmi loaded, as run-guest-tests expects.
T=smbios
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
. /ripmi/config
mark() { dmesg | wc -l >/tmp/mark; }
since() { dmesg | tail -n +$(($(cat /tmp/mark) + 1)); }
mcinfo() { # file
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	ipmitool -I open mc info >"$1" 2>&1
}
ports() { grep ": $1\$" /proc/ioports | sed 's/^ *//; s/ :.*//' | tr '\n' ' '; }
irq_of() { grep " $1\$" /proc/interrupts | sed 's/^ *\([0-9]*\):.*/\1/' | head -n 1; }
drv=/sys/bus/platform/drivers/ripmi

use-stack none
mark
use-stack ripmi
log=$(since | grep -a 'ripmi')
echo "$log" | sed 's/^/#   /'
bound=$(ls $drv | grep -v 'bind\|uevent\|module' | tr '\n' ' ')
if [ "${RIPMI_NO_ACPI:-0}" != 1 ]; then
	if [ "$bound" = "IPI0001:00 " ] && [ "$(ls /dev | grep -c '^ipmi')" = 1 ] &&
		echo "$log" | grep -q 'SMBIOS: KCS at 0xca2 is also an ACPI IPI0001 device; using ACPI'; then
		pass acpi-wins
	else
		fail acpi-wins "ripmi bound: '$bound', /dev: $(ls /dev | grep ipmi | tr '\n' ' ')"
	fi
	exit 0
fi

# No ACPI: ripmi's view.
[ ! -e /sys/bus/acpi/devices/IPI0001:00 ] && pass no-acpi-device || fail no-acpi-device "IPI0001:00 exists"
mcinfo /tmp/mc.ripmi
r_ports=$(ports ripmi) r_irq=$(irq_of ripmi)
r_line=$(echo "$log" | grep -o 'SMBIOS: KCS at 0x[0-9a-f]* (spacing [0-9]*, irq [0-9]*) only SMBIOS describes: ripmi-smbios.0')
echo "# ripmi: bound '$bound', ports '$r_ports', irq '$r_irq'; $r_line"
if [ "$bound" = "ripmi-smbios.0 " ] && [ -n "$r_line" ] && grep -q 'Device ID' /tmp/mc.ripmi; then
	pass ripmi-binds-smbios
else
	fail ripmi-binds-smbios "bound '$bound', line '$r_line', mc info: $(head -n 2 /tmp/mc.ripmi | tr '\n' '|')"
fi

# The C stack's view: the kernel's dmi-ipmi-si.0, bound by ipmi_si.
use-stack c
mcinfo /tmp/mc.c
c_params=$(cat /sys/bus/platform/devices/dmi-ipmi-si.0/params 2>/dev/null)
c_ports=$(ports ipmi_si) c_irq=$(irq_of ipmi_si)
echo "# C: params '$c_params', ports '$c_ports', irq '$c_irq'"
dmesg | grep -a 'ipmi_si' | tail -n 4 | sed 's/^/#   /'
# params: kcs,i/o,0xca2,rsp=1,rsi=1,rsh=0,irq=5,ipmb=32
c_port=$(echo "$c_params" | cut -d, -f3) c_rsi=$(echo "$c_params" | sed -n 's/.*rsi=\([0-9]*\).*/\1/p')
c_pirq=$(echo "$c_params" | sed -n 's/.*irq=\([0-9]*\).*/\1/p')
want="SMBIOS: KCS at $c_port (spacing $c_rsi, irq $c_pirq) only SMBIOS describes: ripmi-smbios.0"
if [ -n "$c_params" ] && [ "${c_params%%,*}" = kcs ] && [ "$r_line" = "$want" ]; then
	pass same-port-spacing-irq
else
	fail same-port-spacing-irq "C '$c_params' vs ripmi '$r_line'"
fi
[ -n "$r_ports" ] && [ "$r_ports" = "$c_ports" ] && pass same-ioports || fail same-ioports "ripmi '$r_ports' vs C '$c_ports'"
[ "$r_irq" = "$c_irq" ] && pass same-irq-line || fail same-irq-line "ripmi '$r_irq' vs C '$c_irq'"
if grep -q 'Device ID' /tmp/mc.c && cmp -s /tmp/mc.c /tmp/mc.ripmi; then pass same-mc-info; else
	fail same-mc-info "$(diff /tmp/mc.c /tmp/mc.ripmi | head -n 6 | tr '\n' '|')"; fi
use-stack ripmi
