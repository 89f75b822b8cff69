#!/bin/sh
# The SDR repository and the SEL of ripmi's BMC simulator through real tools, on the C stack and
# on ripmi in the same boot: ipmitool sdr elist / sdr info / sel list and FreeIPMI ipmi-sensors /
# ipmi-sel must list every sensor and every entry the simulator holds (counts from
# 'bmcsim-ctl repo'), with the same output on both stacks apart from the readings, which move.
# Finally ipmitool clears the SEL through ripmi (Reserve SEL + Clear SEL).
# Needs a populated simulator: scripts/vm with RIPMI_BMCSIM_ARGS="--sdr-sensors N --sel-entries M"
# (scripts/check's extern-irq boot passes it); otherwise it prints "# skipped" and no result.
pass() { echo "RIPMI-RESULT pass sdr/$1"; }
fail() { echo "RIPMI-RESULT fail sdr/$1: $2"; }
out=/tmp/ext-sdr
mkdir -p $out

repo=$(bmcsim-ctl repo) || { fail repo-query "bmcsim-ctl repo: $repo"; exit 0; }
n=$(echo "$repo" | sed -n 's/.*sensors=\([0-9]*\).*/\1/p')
records=$(echo "$repo" | sed -n 's/.*sdr_records=\([0-9]*\).*/\1/p')
m=$(echo "$repo" | sed -n 's/.*sel_entries=\([0-9]*\).*/\1/p')
[ -n "$n" ] && [ -n "$m" ] || { fail repo-query "unexpected answer: $repo"; exit 0; }
if [ "$n" = 0 ] && [ "$m" = 0 ]; then
	echo "# skipped t-ext-sdr: the BMC simulator has no SDR or SEL (RIPMI_BMCSIM_ARGS=\"--sdr-sensors N --sel-entries M\")"
	exit 0
fi
echo "t-ext-sdr: $n sensors ($records records), $m SEL entries"
# The simulator holds what scripts/vm asked for.
. /ripmi/config
want_n=$(echo " $RIPMI_BMCSIM_ARGS " | sed -n 's/.* --sdr-sensors \([0-9]*\) .*/\1/p')
want_m=$(echo " $RIPMI_BMCSIM_ARGS " | sed -n 's/.* --sel-entries \([0-9]*\) .*/\1/p')
[ "$n" = "${want_n:-0}" ] && [ "$m" = "${want_m:-0}" ] && [ "$records" = $((n > 0 ? n + 1 : 0)) ] &&
	pass simulator-populated-as-asked ||
	fail simulator-populated-as-asked "RIPMI_BMCSIM_ARGS='$RIPMI_BMCSIM_ARGS', simulator: $repo"

fi_opts="--driver-type=OPENIPMI"
for s in c ripmi; do
	use-stack $s || { fail use-stack-$s "cannot load the $s stack"; exit 1; }
	i=0; while [ ! -c /dev/ipmi0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	start=$(date +%s)
	ipmitool -I open sdr info >$out/sdrinfo.$s 2>&1
	echo "exit=$?" >>$out/sdrinfo.$s
	ipmitool -I open sdr elist >$out/elist.$s 2>$out/elist-err.$s
	echo "exit=$?" >>$out/elist-err.$s
	ipmitool -I open sel info >$out/selinfo.$s 2>&1
	ipmitool -I open sel list >$out/sel.$s 2>$out/sel-err.$s
	echo "exit=$?" >>$out/sel-err.$s
	# A fresh SDR cache for each stack, so both read the whole repository.
	rm -rf $out/cache.$s
	mkdir -p $out/cache.$s
	ipmi-sensors $fi_opts --sdr-cache-directory=$out/cache.$s >$out/sensors.$s 2>$out/sensors-err.$s
	echo "exit=$?" >>$out/sensors-err.$s
	ipmi-sel $fi_opts --sdr-cache-directory=$out/cache.$s >$out/ipmisel.$s 2>$out/ipmisel-err.$s
	echo "exit=$?" >>$out/ipmisel-err.$s
	echo "t-ext-sdr: $s stack: $(($(date +%s) - start)) s for the five tools"
done

# One line of a file, '|' for newlines, for failure details.
show() { head -c 400 "$1" | tr '\n' '|'; }
# Lines of ipmitool/FreeIPMI tables (they start with a name or a number and contain '|').
rows() { grep -c '|' "$1"; }
same() { # name file-c file-ripmi
	if [ ! -s "$2" ]; then
		fail "$1" "nothing to compare: the C stack's output is empty"
	elif cmp -s "$2" "$3"; then pass "$1"; else
		fail "$1" "$(diff "$2" "$3" | head -n 8 | tr '\n' '|')"
	fi
}

if [ "$n" -gt 0 ]; then
	# ipmitool sdr info: the record count (the locator and the sensors).
	grep -Eq "^Record Count +: $records\$" $out/sdrinfo.ripmi && pass sdr-info-record-count ||
		fail sdr-info-record-count "want $records: $(show $out/sdrinfo.ripmi)"
	# ipmitool sdr elist: one line per sensor, "Name | NNh | ok | E.I | reading".
	for s in c ripmi; do
		awk -F'|' 'NF >= 5 { gsub(/ +$/, "", $1); gsub(/^ +| +$/, "", $3); print $1 "|" $2 "|" $3 "|" $4 }' \
			$out/elist.$s >$out/elist-cols.$s
		awk -F'|' 'NF >= 5 { print $5 }' $out/elist.$s >$out/elist-readings.$s
	done
	got=$(rows $out/elist.ripmi)
	[ "$got" = "$n" ] && grep -q '^exit=0$' $out/elist-err.ripmi && pass elist-lists-every-sensor ||
		fail elist-lists-every-sensor "want $n lines, got $got: $(show $out/elist-err.ripmi) $(show $out/elist.ripmi)"
	bad=$(awk -F'|' '$3 != "ok"' $out/elist-cols.ripmi | head -n 3 | tr '\n' ';')
	[ -z "$bad" ] && pass elist-all-ok || fail elist-all-ok "$bad"
	# Every threshold sensor shows a converted reading with its unit; the discrete ones (the
	# 6th of every 12: power supply, processor, intrusion, drive in turn) their state.
	nd=$(((n + 6) / 12))
	nread=$(grep -cE '[0-9] (degrees C|Volts|RPM|Amps|Watts) *$' $out/elist-readings.ripmi)
	nstate=$(grep -cE '^ *((Presence detected|Drive Present) *)?$' $out/elist-readings.ripmi)
	[ "$nread" = $((n - nd)) ] && [ "$nstate" = "$nd" ] && pass elist-readings ||
		fail elist-readings "$nread readings + $nstate states, want $((n - nd)) + $nd: $(show $out/elist-readings.ripmi)"
	# The first sensors' values are in their ranges: Temp 1 (30-60 C), Volt 1 (12 V rail), Fan 1.
	awk -F'|' '
		$1 ~ /^Temp 1 / { split($5, a, " "); if (a[1] < 20 || a[1] > 65) print "Temp 1 " $5 }
		$1 ~ /^Volt 1 / { split($5, a, " "); if (a[1] < 11.5 || a[1] > 12.5) print "Volt 1 " $5 }
		$1 ~ /^Fan 1 / { split($5, a, " "); if (a[1] < 3000 || a[1] > 6500) print "Fan 1 " $5 }
	' $out/elist.ripmi >$out/elist-range.ripmi
	[ ! -s $out/elist-range.ripmi ] && pass elist-values-plausible ||
		fail elist-values-plausible "$(show $out/elist-range.ripmi)"
	same elist-same-as-c $out/elist-cols.c $out/elist-cols.ripmi
	# FreeIPMI ipmi-sensors: "ID | Name | Type | Reading | Units | Event", a header line first.
	for s in c ripmi; do
		awk -F'|' '$1 ~ /^ *[0-9]+ *$/ { print $1 "|" $2 "|" $3 "|" $5 "|" $6 }' $out/sensors.$s >$out/sensors-cols.$s
	done
	got=$(grep -c . $out/sensors-cols.ripmi)
	[ "$got" = "$n" ] && grep -q '^exit=0$' $out/sensors-err.ripmi && pass ipmi-sensors-lists-every-sensor ||
		fail ipmi-sensors-lists-every-sensor "want $n, got $got: $(show $out/sensors-err.ripmi) $(show $out/sensors.ripmi)"
	# Threshold sensors read a number and 'OK', discrete ones N/A and their state.
	awk -F'|' -v want=$((n - nd)) '
		$1 !~ /^ *[0-9]+ *$/ { next }
		$4 ~ /^ *[0-9]+\.[0-9]+ *$/ { if ($6 ~ /.OK./) num++; else bad = bad $0 ";"; next }
		$4 ~ /^ *N\/A *$/ && $6 !~ /N\/A/ { states++; next }
		{ bad = bad $0 ";" }
		END { if (num != want || bad != "") printf "%d numeric OK readings, want %d; %s\n", num, want, bad }
	' $out/sensors.ripmi >$out/sensors-check.ripmi
	[ ! -s $out/sensors-check.ripmi ] && pass ipmi-sensors-readings ||
		fail ipmi-sensors-readings "$(show $out/sensors-check.ripmi)"
	same ipmi-sensors-same-as-c $out/sensors-cols.c $out/sensors-cols.ripmi
fi

if [ "$m" -gt 0 ]; then
	grep -Eq "^Entries +: $m\$" $out/selinfo.ripmi && pass sel-info-entries ||
		fail sel-info-entries "want $m: $(show $out/selinfo.ripmi)"
	got=$(rows $out/sel.ripmi)
	[ "$got" = "$m" ] && grep -q '^exit=0$' $out/sel-err.ripmi && pass sel-list-lists-every-entry ||
		fail sel-list-lists-every-entry "want $m, got $got: $(show $out/sel-err.ripmi) $(show $out/sel.ripmi)"
	same sel-list-same-as-c $out/sel.c $out/sel.ripmi
	got=$(grep -cE '^ *[0-9]+ *\|' $out/ipmisel.ripmi)
	[ "$got" = "$m" ] && grep -q '^exit=0$' $out/ipmisel-err.ripmi && pass ipmi-sel-lists-every-entry ||
		fail ipmi-sel-lists-every-entry "want $m, got $got: $(show $out/ipmisel-err.ripmi) $(show $out/ipmisel.ripmi)"
	same ipmi-sel-same-as-c $out/ipmisel.c $out/ipmisel.ripmi
	# Clear the SEL through ripmi: Reserve SEL, then Clear SEL with that reservation.
	ipmitool -I open sel clear >$out/clear 2>&1
	echo "exit=$?" >>$out/clear
	after=$(bmcsim-ctl repo | sed -n 's/.*sel_entries=\([0-9]*\).*/\1/p')
	ipmitool -I open sel info >$out/selinfo-after 2>&1
	grep -q '^exit=0$' $out/clear && [ "$after" = 0 ] && grep -Eq '^Entries +: 0$' $out/selinfo-after &&
		pass sel-clear || fail sel-clear "$(show $out/clear) entries=$after $(show $out/selinfo-after)"
fi
# Leave ripmi loaded, as run-guest-tests expects.
true
