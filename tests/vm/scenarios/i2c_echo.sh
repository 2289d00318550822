# SPDX-License-Identifier: GPL-2.0
# The real controller path: QEMU's i2c-echo device (-device i2c-echo,
# bus=aspeed.i2c.bus.4,address=0x42, QEMU >= 8) masters Aspeed bus 4 and writes
# two bytes to the ssif-bmc node's address 0x10, so the target events come from
# i2c-aspeed's slave interrupt handler. For each 2-byte write that matters it
# prints
#   echo: driver=<d> bytes=<b1 b2> events=<what the i2c_slave tracepoint saw>
#         counters=<counters that moved, ours only> pending=<request readable?>
# and, for our driver, checks that the events are WR_REQ, WR_RCV b1, WR_RCV b2,
# STOP in hard IRQ context, that exactly the expected counter moved by one and
# that no request can be read. Then ssif.flood= writes (default 2000) in a row,
# as fast as the guest can send them (ssif-vmtest flood), and the same
# accounting over the lot; no splat or leak; and the same driver, bound on the software link, still serves
# a full request. ssif.driver=c runs it against upstream's ssif_bmc_c.ko: its
# lines are printed for comparison, and only the path itself is checked.
#
# QEMU's Aspeed model stops delivering target events after a WRITE_REQUESTED
# errno (a busy target) until reboot, so a request delivered here is read at
# once and its response deadline (500 ms, both drivers) waited out before the
# next write, and the flood leaves out the writes that delivered one.
. /scenarios/lib.sh
# The AST2500's boot leaves a kmemleak report before any module loads (lib.sh).
clear_boot_leaks
DRV=$(sed -n 's/.*ssif\.driver=\([a-z]*\).*/\1/p' /proc/cmdline)
DRV=${DRV:-rust}
FLOOD=$(sed -n 's/.*ssif\.flood=\([0-9]*\).*/\1/p' /proc/cmdline)
FLOOD=${FLOOD:-2000}
BUS=4		# the DT's i2c4, where the ssif-bmc node and i2c-echo sit
ECHO=0x42
TRACE=/sys/kernel/tracing
case $DRV in
rust | c) DRVDIR=/sys/bus/i2c/drivers/ipmi-ssif-host ;;
*) echo "i2c_echo: unknown driver $DRV"; exit 2 ;;
esac

# The patterns, each with the one counter of ours it must move: a command with a
# length and no data, each command byte we know, a few we do not, MIDDLE/END
# without START, 0x0A, bytes after a complete (read) command.
PATTERNS='
02 00 abort_bad_length
02 01 abort_truncated
02 20 abort_truncated
02 21 abort_overlong_part
02 ff abort_overlong_part
06 00 abort_bad_length
06 01 abort_truncated
06 20 abort_truncated
06 21 abort_overlong_part
07 00 abort_no_start
07 01 abort_truncated
07 20 abort_truncated
07 21 abort_overlong_part
08 00 abort_no_start
08 01 abort_truncated
08 21 abort_overlong_part
0a 00 abort_bad_retry
0a 01 abort_truncated
0a 21 abort_overlong_part
03 00 abort_excess_bytes
03 5a abort_excess_bytes
09 00 abort_excess_bytes
09 ff abort_excess_bytes
00 00 abort_unknown_command
01 02 abort_unknown_command
04 10 abort_unknown_command
05 20 abort_unknown_command
0b 01 abort_unknown_command
42 02 abort_unknown_command
ff ff abort_unknown_command
'

check "${DRV}_loaded" load_driver $DRV
check "${DRV}_bound_on_aspeed_bus4" test -e $DRVDIR/$BUS-1010
COUNTERS=$(counters_file $BUS)
[ $DRV = rust ] && check counters_file_present test -n "$COUNTERS"
echo 1 > $TRACE/events/i2c_slave/enable

# All counters as "name value" lines (nothing for upstream's driver, which has none).
snapshot() {
	if [ -n "$COUNTERS" ]; then cat "$COUNTERS"; fi
}

# counter_delta BEFORE AFTER: the counters that changed, as name+delta, sorted.
counter_delta() {
	echo "$1" >/tmp/before
	echo "$2" | awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "%s+%d\n", $1, $2 - b[$1] }' \
		/tmp/before - | sort | tr '\n' ' ' | sed 's/ $//'
}

# The target events on bus 4 in the trace, as "EVENT[byte]/ret" words; each word
# gets a "!" if it was not delivered in hard IRQ context (the third flag of the
# trace line, h or H).
events() {
	grep "i2c_slave: i2c-$BUS a=010" $TRACE/trace | awk '{
		ev = $0; sub(/.*ret=/, "", ev)
		ret = ev; sub(/ .*/, "", ret)
		sub(/^-?[0-9]+ +/, "", ev)
		name = ev; sub(/ .*/, "", name)
		byte = ev; sub(/^[^[]*\[/, "", byte); sub(/\].*/, "", byte)
		printf "%s%s[%s]/%s%s", (NR > 1 ? " " : ""), name, byte, ret,
			(substr($3, 3, 1) ~ /[hH]/ ? "" : "!")
	}'
}

# send B1 B2: have i2c-echo write B1 B2 to 0x10 and wait (up to 2 s) for the STOP.
send() {
	: > $TRACE/trace
	i2ctransfer -y $BUS w3@$ECHO 0x10 0x$1 0x$2 || return 1
	n=0
	while ! grep -q "i2c-$BUS a=010 .*STOP" $TRACE/trace && [ $n -lt 100 ]; do
		sleep 0.02
		n=$((n + 1))
	done
}

echo "== phase: each 2-byte write through i2c-echo and i2c-aspeed ($DRV)"
# Not a pipe into while: check must count in this shell. The patterns come on fd 3,
# as the commands in the loop read stdin.
echo "$PATTERNS" | grep . >/tmp/patterns
: >/tmp/delivered
: >/tmp/floodable
while read -r b1 b2 want <&3; do
	before=$(snapshot)
	dmesg -c >/dev/null
	send $b1 $b2 || echo "echo: i2ctransfer failed"
	got=$(events)
	# One raw line per boot, for the record.
	[ -n "$SHOWN" ] || { SHOWN=1; echo "echo-trace: $(grep -m1 "i2c_slave: i2c-$BUS" $TRACE/trace)"; }
	delta=$(counter_delta "$before" "$(snapshot)")
	pend=$(ssif-vmtest pending)
	log=$(dmesg -c | grep -v 'i2c_slave' | tr '\n' ';' | cut -c1-160)
	echo "echo: driver=$DRV bytes=\"$b1 $b2\" events=\"$got\" counters=\"$delta\" pending=\"${pend#pending: }\" dmesg=\"$log\""
	if [ "$pend" != "pending: none" ]; then
		echo "$b1 $b2" >>/tmp/delivered
		# Wait out the response deadline, so the next write does not find it busy.
		sleep 0.6
	else
		echo "$b1 $b2 $want" >>/tmp/floodable
	fi
	# Upstream's return values are its own business: the path is checked without them.
	shape=$(echo "$got" | sed 's|/[-0-9]*||g')
	check "echo_${DRV}_${b1}_${b2}_delivered_by_i2c_aspeed_in_hard_irq" \
		[ "$shape" = "WR_REQ[] WR_RCV[$b1] WR_RCV[$b2] STOP[]" ]
	if [ $DRV = rust ]; then
		check "echo_rust_${b1}_${b2}_address_acked" [ "${got%% *}" = "WR_REQ[]/0" ]
		check "echo_rust_${b1}_${b2}_counted_as_${want}_only" [ "$delta" = "$want+1" ]
		# Counted and readable both: a request the deadline dropped before the read
		# still shows in "requests".
		check "echo_rust_${b1}_${b2}_delivers_no_request" \
			sh -c "[ '$pend' = 'pending: none' ] && ! echo '$delta' | grep -q requests"
	fi
done 3</tmp/patterns
echo "echo: driver=$DRV delivered_requests=\"$(tr '\n' ',' </tmp/delivered)\""

echo "== phase: $FLOOD writes in a row ($DRV)"
echo 0 > $TRACE/events/i2c_slave/enable
before=$(snapshot)
dmesg -c >/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
out=$(ssif-vmtest flood $BUS $ECHO "$FLOOD" $(awk '{ printf "10%s%s ", $1, $2 }' /tmp/floodable))
echo "$out"
sent=$(echo "$out" | sed -n 's/.*sent=\([0-9]*\).*/\1/p')
failed=$(echo "$out" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
# What the writes must have moved: the pattern of write i is line i % lines.
awk -v n="$FLOOD" '{ p[NR - 1] = $3 } END { for (i = 0; NR && i < n; i++) print p[i % NR] }' \
	/tmp/floodable >/tmp/flood-want
sleep 0.5
t1=$(cut -d' ' -f1 /proc/uptime)
delta=$(counter_delta "$before" "$(snapshot)")
want=$(sort /tmp/flood-want | uniq -c | awk '{ printf "%s+%d\n", $2, $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
pend=$(ssif-vmtest pending)
echo "echo: driver=$DRV flood=$FLOOD sent=$sent failed=$failed seconds=$(echo "$t0 $t1" | awk '{ print $2 - $1 }') counters=\"$delta\" pending=\"${pend#pending: }\""
dmesg -c | grep -v 'Unexpected SMBus command' | head -n 20
check "echo_${DRV}_flood_every_write_sent" [ "$sent" = "$FLOOD" ]
if [ $DRV = rust ]; then
	check echo_rust_flood_counted_exactly [ "$delta" = "$want" ]
	check echo_rust_flood_delivers_no_request [ "$pend" = "pending: none" ]
fi
check "echo_${DRV}_no_kernel_splat" no_splat
check "echo_${DRV}_no_kmemleak_reports" no_leaks

echo "== phase: the same driver serves a full request over the software link ($DRV)"
echo $BUS-1010 > $DRVDIR/unbind
link_up
: > /tmp/responder.log
start_responder
wait_serving
check "echo_${DRV}_then_serves_over_the_link" sh -c \
	'ssif-vmtest clean '"$HOST_BUS"' | tee /dev/stderr | grep -q "clean: ok"'
kill $RESPONDER; wait $RESPONDER 2>/dev/null
check "echo_${DRV}_no_kernel_splat_at_end" no_splat
summary
