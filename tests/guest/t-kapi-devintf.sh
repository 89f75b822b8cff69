#!/bin/sh
# t-kapi-devintf.sh: the kernel's own ipmi_devintf.ko running on ripmi's in-kernel API
# (src/kapi/, Documentation/kernel-api.rst), with ripmi's /dev/ipmiN off (devintf=0).
#  - equivalence: ipmitool and FreeIPMI through ipmi_devintf-on-ripmi see what they see through
#    the C stack (t-equivalence.sh with load-ripmi's RIPMI_KAPI_DEVINTF=1);
#  - abi: the /dev/ipmiN ABI programs (t-devintf-errno, t-compat32) pass on it, as on C;
#  - stack: /dev/ipmi0 is ipmi_devintf's (class ipmi), ripmi made no misc node, and
#    ipmi_msghandler is not loaded; loading ipmi_msghandler now fails (duplicate symbols);
#  - refcount: ripmi cannot be removed while ipmi_devintf is loaded, nor ipmi_devintf while a
#    file is open; unbinding the interface with a file open removes /dev/ipmi0 (smi_gone), the
#    open file then fails and closes cleanly, and bind brings back a working /dev/ipmi0;
#  - unload: ipmi_devintf then ripmi come out cleanly.
# Leaves ripmi loaded (its own /dev/ipmi0), as run-guest-tests expects.
T=kapi-devintf
pass() { echo "RIPMI-RESULT pass $T/$1"; }
fail() { echo "RIPMI-RESULT fail $T/$1: $2"; }
loaded() { grep -q "^$1 " /proc/modules; }
wait_node() { # 1: wait for /dev/ipmi0, 0: for it to go
	i=0
	while [ $i -lt 100 ]; do
		if [ -c /dev/ipmi0 ]; then [ "$1" = 1 ] && return 0; else [ "$1" = 0 ] && return 0; fi
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
works() { ipmitool -I open raw 6 1 >/tmp/$T.raw 2>&1; }

why=$(kapi-ready ipmi_devintf) || { fail setup "$why"; exit 1; }

# Equivalence (leaves ripmi + ipmi_devintf loaded).
RIPMI_KAPI_DEVINTF=1 /ripmi/tests/t-equivalence.sh >/tmp/$T.eq 2>&1
sed -n "s#^RIPMI-RESULT \(pass\|fail\) equivalence/#RIPMI-RESULT \1 $T/equivalence/#p" /tmp/$T.eq
grep -q '^RIPMI-RESULT' /tmp/$T.eq || fail equivalence "no result: $(tail -n 3 /tmp/$T.eq)"

if ! loaded ripmi || ! loaded ipmi_devintf; then
	fail setup "ripmi with ipmi_devintf is not what is loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	exit 1
fi
wait_node 1
if [ -d /sys/class/ipmi/ipmi0 ] && [ ! -e /sys/class/misc/ipmi0 ] && ! loaded ipmi_msghandler; then
	pass stack
else
	fail stack "class ipmi0: $(ls /sys/class/ipmi 2>&1); misc ipmi0: $(ls -d /sys/class/misc/ipmi0 2>&1)"
fi
if insmod /lib/modules/c-ipmi/ipmi_msghandler.ko 2>/tmp/$T.dup; then
	rmmod ipmi_msghandler
	fail coexist "ipmi_msghandler loaded next to ripmi"
elif dmesg | tail -n 20 | grep -q 'exports duplicate symbol'; then
	pass coexist
else
	fail coexist "no duplicate-symbol message: $(cat /tmp/$T.dup)"
fi

# The ABI programs, on ipmi_devintf-on-ripmi.
for p in t-devintf-errno t-compat32; do
	[ -x /ripmi/tests/$p ] || { fail "abi/$p" "missing"; continue; }
	/ripmi/tests/$p >/tmp/$T.$p 2>&1
	rc=$?
	sed -n "s#^RIPMI-RESULT \(pass\|fail\) #RIPMI-RESULT \1 $T/abi/#p" /tmp/$T.$p
	if [ $rc -ne 0 ] && ! grep -q '^RIPMI-RESULT fail' /tmp/$T.$p; then
		fail "abi/$p" "exited with status $rc"
	fi
	grep -q '^RIPMI-RESULT\|^# skipped' /tmp/$T.$p || fail "abi/$p" "reported no result"
done

# Reference counts: the module dependency pins ripmi; an open file pins ipmi_devintf.
if rmmod ripmi 2>/dev/null; then fail refcount-ripmi "ripmi removed under ipmi_devintf"; exit 1; fi
pass refcount-ripmi
sleep 1000 </dev/ipmi0 &
holder=$!
sleep 0.3
if rmmod ipmi_devintf 2>/dev/null; then
	fail refcount-devintf "ipmi_devintf removed with /dev/ipmi0 open"
else
	pass refcount-devintf
fi

# Unbind with the file open: the node goes (smi_gone), the file's user fails, close is clean.
drv=/sys/bus/platform/drivers/ripmi
dev=$(ls $drv | grep '^IPI0001' | head -n 1)
if [ -z "$dev" ]; then
	fail unbind "no IPI0001 device bound to ripmi: $(ls $drv)"
else
	echo "$dev" >$drv/unbind
	if wait_node 0; then pass unbind-node-gone; else fail unbind-node-gone "/dev/ipmi0 still there"; fi
	kill $holder; wait $holder 2>/dev/null
	holder=
	echo "$dev" >$drv/bind
	if wait_node 1 && works; then pass rebind; else fail rebind "$(cat /tmp/$T.raw)"; fi
fi
[ -n "$holder" ] && { kill $holder; wait $holder 2>/dev/null; }

# The clean unload order: ipmi_devintf, then ripmi.
if works && rmmod ipmi_devintf && rmmod ripmi; then pass unload; else fail unload "$(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"; fi
loaded ripmi || load-ripmi >/dev/null || fail teardown "load-ripmi failed"
exit 0
