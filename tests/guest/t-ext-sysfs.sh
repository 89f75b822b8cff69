#!/bin/sh
# sysfs of the C stack and of ripmi in one boot (scripts/vm --bmc extern): /sys/class/ipmi, the
# BMC device ipmi_bmc.N with its files and links, and the SI device's files must read the same on
# both. Then the simulator's device ID and GUID change: after the 10 s expiry a read of a BMC file
# fetches them again, and both stacks must show the same new values and BMC device. Last, in
# maintenance mode, such a read fails with EBUSY on both. The simulator's settings are restored
# (later tests in the boot rely on them).
T=ext-sysfs
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
out=/tmp/$T
mkdir -p $out
flat() { tr '\n' '|' <"$1" | head -c 700; }
# The files of the BMC device, in C's order.
BMC_FILES="device_id provides_device_sdrs revision firmware_revision ipmi_version
additional_device_support manufacturer_id product_id aux_firmware_revision guid"
# The SI device's files ripmi has (Documentation/sysfs.rst).
SI_FILES="nr_users nr_msgs maintenance_mode type interrupts_enabled params"
NEW_GUID=00112233-4455-6677-8899-aabbccddeeff
orig_id=$(bmcsim-ctl set | sed -n 's/^device_id=//p')
orig_guid=$(bmcsim-ctl set | sed -n 's/^guid=//p')
[ -n "$orig_id" ] && [ -n "$orig_guid" ] || { fail settings "bmcsim-ctl set gave no device_id/guid"; exit 0; }

# Writes the layout of the stack loaded now: class devices, their SI device, its BMC device.
layout() {
	for c in /sys/class/ipmi/*; do
		[ -e "$c" ] || { echo "no /sys/class/ipmi entries"; continue; }
		si=$(readlink -f "$c/device")
		# The numbers differ (C has its own major, ripmi's node is a misc device): `dev` must
		# name the node /dev/ipmiN.
		dev=$(cat "$c/dev" 2>&1)
		node=$(stat -c '%t %T' "/dev/${c##*/}" 2>/dev/null | { read -r ma mi && echo "$((0x$ma)):$((0x$mi))"; })
		[ "$dev" = "$node" ] && dev="matches /dev/${c##*/}" || dev="$dev, /dev/${c##*/} is '$node'"
		echo "class ${c##*/} dev $dev device=${si##*/}"
		echo "class ${c##*/} files: $(ls "$c" | tr '\n' ' ')"
		b=$(readlink -f "$si/bmc")
		echo "si ${si##*/} bmc=${b##*/}"
		for f in $SI_FILES; do
			echo "si ${si##*/} $f=$(cat "$si/$f" 2>&1)"
		done
	done
	for b in /sys/bus/platform/devices/ipmi_bmc.*; do
		[ -e "$b" ] || { echo "no ipmi_bmc device"; continue; }
		for f in $BMC_FILES; do
			[ -e "$b/$f" ] && echo "bmc ${b##*/} $f=$(cat "$b/$f" 2>&1)" ||
				echo "bmc ${b##*/} $f absent"
		done
		echo "bmc ${b##*/} files: $(ls "$b" | tr '\n' ' ')"
		echo "bmc ${b##*/} driver: $(basename "$(readlink -f "$b/driver")")"
		for l in "$b"/ipmi*; do
			[ -L "$l" ] && echo "bmc ${b##*/} link ${l##*/} -> $(basename "$(readlink -f "$l")")"
		done
	done
}

for s in c ripmi; do
	use-stack $s || { fail load-$s "use-stack $s failed"; continue; }
	sleep 1
	layout >$out/layout.$s 2>&1
	# C's is_visible runs when the files are made; a GUID that appears later needs the device
	# registered again, as does a new device ID. Change both, wait out the expiry, read.
	bmcsim-ctl set device_id 21 >/dev/null && bmcsim-ctl set guid $NEW_GUID >/dev/null
	sleep 11
	for b in /sys/bus/platform/devices/ipmi_bmc.*; do cat "$b/device_id" >/dev/null 2>&1; done
	# The re-registration may run from a work item: let it finish, then read again.
	sleep 2
	layout >$out/changed.$s 2>&1
	dmesg | grep -aiE 'bmc|ipmi' | tail -n 8 >$out/dmesg.$s
	bmcsim-ctl set device_id "$orig_id" >/dev/null && bmcsim-ctl set guid "$orig_guid" >/dev/null
	# A firmware command (netfn 08) puts the interface in maintenance mode (firmware, 30 s):
	# a read that would fetch the expired identity then fails with EBUSY.
	ext-send 08 01 5000 >/dev/null 2>&1
	si=$(readlink -f /sys/class/ipmi/ipmi0/device)
	{
		echo "maintenance state $(cut -d' ' -f1 "$si/maintenance_mode")"
		sleep 11
		for b in /sys/bus/platform/devices/ipmi_bmc.*; do
			v=$(cat "$b/device_id" 2>&1) || echo "read failed: ${v##*: }"
		done
	} >$out/maint.$s 2>&1
done
# The names C takes: with ipmi_msghandler and ipmi_devintf loaded (without ipmi_si they drive
# nothing), ripmi cannot load at all (it exports ipmi_msghandler's API): the module loader refuses
# it with one line and nothing of ripmi's appears in sysfs. Once both are gone, the C stack and
# then ripmi get their class devices.
use-stack none
dmesg -c >/dev/null
insmod /lib/modules/c-ipmi/ipmi_msghandler.ko && insmod /lib/modules/c-ipmi/ipmi_devintf.ko
insmod /lib/modules/ripmi.ko 2>/dev/null
rc=$?
{
	echo "load rc=$rc"
	# (busybox's insmod may try twice: finit_module, then init_module)
	echo "refused: $(dmesg | grep -c 'ripmi: exports duplicate symbol .* (owned by ipmi_msghandler)' | sed 's/^[1-9][0-9]*$/yes/')"
	echo "class devices: $(ls /sys/class/ipmi | wc -l)"
	echo "ripmi: $(grep -c '^ripmi ' /proc/modules)"
} >$out/clash 2>&1
use-stack c && echo "C after: $(ls /sys/class/ipmi | tr '\n' ' ')" >>$out/clash
use-stack ripmi && echo "ripmi after: $(ls /sys/class/ipmi | tr '\n' ' ')" >>$out/clash

for s in c ripmi; do
	echo "# $T $s: $(flat $out/layout.$s)"
	echo "# $T $s changed: $(flat $out/changed.$s)"
	echo "# $T $s dmesg: $(flat $out/dmesg.$s)"
	echo "# $T $s maintenance: $(flat $out/maint.$s)"
done
# Each aspect on its own, so one difference does not hide the others.
cmp_part() { # NAME PATTERN FILE
	grep -E "$2" $out/$3.c >$out/$1.c
	grep -E "$2" $out/$3.ripmi >$out/$1.ripmi
	if [ ! -s $out/$1.c ]; then
		fail $1 "nothing matched on C: $(flat $out/$3.c)"
	elif cmp -s $out/$1.c $out/$1.ripmi; then
		pass $1
	else
		fail $1 "C: $(flat $out/$1.c) ripmi: $(flat $out/$1.ripmi)"
	fi
}
cmp_part class '^class |^no /sys' layout
cmp_part bmc-link '^si .* bmc=' layout
cmp_part bmc-files '^bmc |^no ipmi_bmc' layout
cmp_part si-files '^si .*=' layout
cmp_part refreshed-bmc '^bmc |^si .* bmc=' changed
cmp_part maintenance-ebusy '' maint
grep -q 'read failed: Device or resource busy' $out/maint.ripmi && pass ripmi-ebusy ||
	fail ripmi-ebusy "$(flat $out/maint.ripmi)"
echo "# $T clash: $(flat $out/clash)"
! grep -q '^load rc=0$' $out/clash && grep -q '^refused: yes$' $out/clash &&
	grep -q '^class devices: 0$' $out/clash && grep -q '^ripmi: 0$' $out/clash &&
	pass c-loaded-ripmi-refused || fail c-loaded-ripmi-refused "$(flat $out/clash)"
grep -q '^C after: ipmi0 $' $out/clash && grep -q '^ripmi after: ipmi0 $' $out/clash &&
	pass names-given-back || fail names-given-back "$(flat $out/clash)"
# Absolute checks on ripmi, so a C difference cannot make both wrong the same way.
grep -q '^bmc ipmi_bmc\.[0-9]* device_id=33$' $out/changed.ripmi && pass ripmi-new-device-id ||
	fail ripmi-new-device-id "$(flat $out/changed.ripmi)"
grep -q "^bmc ipmi_bmc\.[0-9]* guid=" $out/changed.ripmi && pass ripmi-guid-shown ||
	fail ripmi-guid-shown "$(flat $out/changed.ripmi)"
