#!/bin/sh
# t-ext-kapi-poweroff.sh: the kernel's ipmi_poweroff on ripmi's in-kernel API finds its poweroff
# method. At load it asks the BMC for its Device ID through ipmi_request_supply_msgs() with its
# own (static) messages and waits for the answer: with the BMC's "chassis device" support bit set
# it installs the chassis-control poweroff; without it, it finds none. This does not power off
# (tests/poweroff/run does, in VMs of its own).
T=ext-kapi-poweroff
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
why=$(kapi-ready ipmi_poweroff) || { fail setup "$why"; exit 1; }
try() { # additional_support -> the last "IPMI poweroff" verdict line
	bmcsim-ctl set additional_support "$1" >/dev/null
	dmesg -c >/dev/null
	insmod /lib/modules/c-ipmi/ipmi_poweroff.ko || { echo "insmod failed"; return; }
	dmesg | grep -a 'IPMI poweroff: \(Found a\|Unable to find\)' | tail -n 1
	rmmod ipmi_poweroff || echo "rmmod failed"
}
r=$(try 87)
case $r in *"Found a chassis style poweroff function"*) pass chassis-found ;; *) fail chassis-found "$r" ;; esac
r=$(try 07)
case $r in *"Unable to find a poweroff function"*) pass none-without-chassis ;; *) fail none-without-chassis "$r" ;; esac
exit 0
