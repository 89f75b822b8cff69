#!/bin/sh
# Back-pressure: with max_msgs_per_user=3, a user that reads nothing while 10 commands for it
# arrive must still get all 10, in order, once it reads; none may be answered 0xC1 or dropped.
# (C stops processing every incoming message while one user is full; ripmi holds only that
# user's commands, in order; see Documentation/receivers.rst.)
pass() { echo "RIPMI-RESULT pass ext-held/$1"; }
fail() { echo "RIPMI-RESULT fail ext-held/$1: $2"; }
use-stack ripmi max_msgs_per_user=3 || { fail load "load-ripmi failed"; exit 1; }
sleep 1
bmcsim-ctl clear >/dev/null
out=$(ext-held 10 2>&1)
sent=$(bmcsim-ctl sent | grep -v '^ok')
use-stack ripmi
echo "$out" | grep -qx 'got: 00 01 02 03 04 05 06 07 08 09' && pass all-in-order ||
	fail all-in-order "$(echo "$out" | tr '\n' '|')"
[ -z "$sent" ] && pass no-c1-answers || fail no-c1-answers "$(echo "$sent" | tr '\n' '|')"
