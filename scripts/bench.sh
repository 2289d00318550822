#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench [BENCH_MODE=both|icount|wall] [BENCH_ROUNDS=4] [BENCH_SECS=10] [SOC=ast2600]
#            [BENCH_ICOUNT_ROUNDS=2] [BENCH_TXNS=100]
# Our driver against upstream's C ssif_bmc in the same boot, in two views (BENCH_MODE,
# both by default):
# - icount: deterministic. QEMU with -icount shift=0,sleep=off, so the guest's clock counts
#   the instructions executed; BENCH_ICOUNT_ROUNDS rounds of BENCH_TXNS transactions per
#   driver and workload. Prints, from that run's measurements:
#   bench-icount: workload=<w> rust_cb_insn=<n> c_cb_insn=<n> cb_ratio=<r>
#     rust_fileops_insn=<n> c_fileops_insn=<n> fileops_ratio=<r>
#     rust_txn_ns=<n> c_txn_ns=<n> txn_ratio=<r>
#   (target callbacks' instructions per transaction; the responder's poll+read+write
#   instructions per transaction; guest ns per whole transaction; the link's bus timing
#   off), then per workload the whole transaction with the link at 100 kHz:
#   bench-icount-100khz: workload=<w> rust_txn_ns=<n> c_txn_ns=<n> txn_ratio=<r>
#     rust_cb_insn=<n> c_cb_insn=<n> cb_ratio=<r>
#   and the detail lines bench-icount-calib:, bench-icount-events:, bench-icount-fileops:,
#   bench-icount-txn: (NAKed polls per transaction), bench-icount-rounds:,
#   bench-icount-spread: (largest difference between the rounds of one boot). On QEMU 10
#   (fetched into the cache), everything on CPU 0; the responder runs under SCHED_FIFO, so
#   it answers before the client's first read: no NAKed poll. It
#   fails (scripts/bench-icount.awk) if a transaction had one, or if two rounds of a figure
#   differ by more than 0.5 %.
# - wall: wall clock under TCG, BENCH_ROUNDS rounds of BENCH_SECS seconds per driver and
#   workload (which driver goes first alternates), plus module size and instructions per
#   bus byte.
# The wall view prints:
#   bench: workload=<w> rust_tps=<x> c_tps=<y> ratio=<rust/c> rust_p99_us=<a> c_p99_us=<b>
#   profile: workload=<w> driver=<d> <mean microseconds per transaction of each phase>
#   fileops: workload=<w> driver=<d> <mean microseconds per read/write/poll call, alone>
#   wakeup: idle_us=<n> wake_us=<mean>: waking a task on a CPU idle that long, no driver
#   size: rust_text=<n> c_text=<m>
#   cost: workload=<w> instructions_per_byte=<n>
# On the release kernel (no lock debugging) unless SSIF_KVARIANT=test asks for the
# debug kernel the tests run on.
export SSIF_KVARIANT=${SSIF_KVARIANT:-release}
. "$(dirname "$0")/lib.sh"
mode=${BENCH_MODE:-both}
case $mode in both | icount | wall) ;; *) die "BENCH_MODE must be both, icount or wall, not $mode" ;; esac
# The bench scenario runs the client on CPU 0 and the responder on CPU 1.
[ "$SOC" != ast2500 ] || die "make bench needs two CPUs (client and responder apart); the AST2500 has one"
bash "$REPO/scripts/prepare.sh"
KB=$(kbuild_dir)
if [ "$mode" != wall ]; then
	# -icount forces single-threaded TCG, which runs the vCPUs in turn and adds up their
	# instructions on one clock. On QEMU 10 (scripts/fetch-qemu.sh, unpacked into the
	# cache), not Debian 12's QEMU 7.2: with -smp 2 under -icount, 7.2 never gets the guest
	# past its first stop_machine(), and with the guest on one CPU (maxcpus=1) guest idle
	# time was not skipped: a Get Device ID at 100 kHz took ~7 s of host time (probably the
	# never-started vCPU: it stays in QEMU's secondary-boot loop, a wfe that TCG does not
	# halt on, so the vCPUs are never all idle). On QEMU 10 both CPUs come up (102 s for a
	# whole 10-transaction run); the bench runs on CPU 0 and CPU 1 sits idle. Each step runs
	# with the link's bus timing off and again at 100 kHz. The stop_machine() of the boot's
	# mark_readonly() takes ~25 s of guest time under -icount with two vCPUs (the one that
	# waits spins through its time slices), which RCU reported as a stall in one boot of two:
	# stall warnings before init runs are off (only then; a stall later still fails the run).
	bash "$REPO/scripts/fetch-qemu.sh"
	q10="$CACHE/qemu10"
	ilog="$OUT_DIR/bench-icount-console.log"
	irounds=${BENCH_ICOUNT_ROUNDS:-2}
	txns=${BENCH_TXNS:-100}
	SSIF_QEMU="$q10/usr/bin/qemu-system-arm" DTB="$(soc_stock_dtb)" \
		SSIF_QEMU_ARGS="-L $q10/usr/share/qemu -icount shift=0,sleep=off -smp 2" \
		EXTRA_APPEND="rcupdate.rcu_cpu_stall_suppress_at_boot=1 ssif.icount=1 ssif.rounds=$irounds ssif.txns=$txns" \
		bash "$REPO/scripts/run-vm.sh" bench "$ilog" $((600 + irounds * txns * 12)) ||
		{ echo "bench-icount: the VM run failed (console: $ilog)"; exit 1; }
	echo "bench-icount: kernel=$KVARIANT $(basename "$KB") qemu=$("$q10/usr/bin/qemu-system-arm" --version | awk 'NR == 1 { print $4 }')"
	console_lines "$ilog" | grep -E '^(calibrate|icountrun):' >"$OUT_DIR/bench-icount-runs.txt"
	# The figures, checked: no NAKed poll, and the rounds agree within 0.5 %.
	awk -f "$REPO/scripts/bench-icount.awk" "$OUT_DIR/bench-icount-runs.txt" ||
		{ echo "bench-icount: the run's figures failed their checks (lines above)"; exit 1; }
	[ "$mode" = icount ] && exit 0
fi
log="$OUT_DIR/bench-console-$SOC.log"
rounds=${BENCH_ROUNDS:-4}
DTB="$(soc_stock_dtb)" EXTRA_APPEND="ssif.secs=${BENCH_SECS:-10} ssif.rounds=$rounds" \
	bash "$REPO/scripts/run-vm.sh" bench "$log" $((300 + rounds * (4 * (${BENCH_SECS:-10} + 25) + 70))) ||
	{ echo "bench: the VM run failed (console: $log)"; exit 1; }
echo "bench: kernel=$KVARIANT $(basename "$KB") machine=$(soc_machine)"
console_lines "$log" | grep '^benchrun:' | tee "$OUT_DIR/bench-runs.txt"
# Mean over the rounds of throughput and of p99 latency, per driver and workload; the spread
# of the per-round ratios (ours and C measured back to back in each round); then the mean
# profile: host-side phases, the target callback's time, the responder's file calls. The
# ratio is of means over the rounds, so one round in which the host stalls the guest weighs
# on it; the geometric mean and the median of the per-round ratios do not hide that round,
# but do not let it decide either.
awk '
	BEGIN { np = split("write_us wait_us read_us naks nak_us sleep_us cb_us file_read_us file_write_us cpu0_us cpu1_us irq0 ipi0 irq1 ipi1 resp_wake_us resp_read_us resp_answer_us resp_slack_us", names, " ")
		split("rust c", ds, " ") }
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  k = f["workload"] SUBSEP f["driver"]; tps[k] += f["tps"]; p99[k] += f["p99_us"]; n[k]++
	  t[f["workload"], f["round"], f["driver"]] = f["tps"]
	  if (f["round"] + 0 > rounds) rounds = f["round"] + 0
	  for (j = 1; j <= np; j++) prof[k, names[j]] += f[names[j]]
	  if (f["errors"] != 0) err = 1; w[f["workload"]] = 1 }
	END {
		for (x in w) {
			r = x SUBSEP "rust"; c = x SUBSEP "c"
			printf "bench: workload=%s rust_tps=%.1f c_tps=%.1f ratio=%.3f rust_p99_us=%d c_p99_us=%d\n", \
				x, tps[r] / n[r], tps[c] / n[c], (tps[r] / n[r]) / (tps[c] / n[c]), p99[r] / n[r], p99[c] / n[c]
		}
		for (x in w) {
			m = 0; lsum = 0
			for (r = 1; r <= rounds; r++) {
				if (!((x, r, "rust") in t) || !((x, r, "c") in t) || t[x, r, "c"] <= 0) continue
				q = t[x, r, "rust"] / t[x, r, "c"]
				# insertion sort, for the median
				for (j = ++m; j > 1 && v[j - 1] > q; j--) v[j] = v[j - 1]
				v[j] = q; lsum += log(q)
			}
			if (!m) continue
			med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
			printf "bench-rounds: workload=%s rounds=%d ratio_geomean=%.3f ratio_median=%.3f ratio_min=%.3f ratio_max=%.3f\n", \
				x, m, exp(lsum / m), med, v[1], v[m]
		}
		for (x in w)
			for (i = 1; i <= 2; i++) {
				k = x SUBSEP ds[i]
				printf "profile: workload=%s driver=%s", x, ds[i]
				for (j = 1; j <= np; j++)
					printf(names[j] ~ /^(naks|irq|ipi)/ ? " %s=%.2f" : " %s=%.1f", names[j], prof[k, names[j]] / n[k])
				printf "\n"
			}
		if (err) print "bench: some transactions failed (see the benchrun lines)"
	}' "$OUT_DIR/bench-runs.txt"
# The file operations timed alone (no responder, nothing concurrent): means over the rounds.
console_lines "$log" | grep '^fileopsrun:' >"$OUT_DIR/fileops-runs.txt"
awk '
	BEGIN { np = split("read_us write_us poll_us eagain_us", names, " ") }
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  k = f["workload"] " driver=" f["driver"]; n[k]++
	  for (j = 1; j <= np; j++) sum[k, names[j]] += f[names[j]] }
	END {
		for (k in n) {
			printf "fileops: workload=%s", k
			for (j = 1; j <= np; j++)
				printf " %s=%.2f", names[j], sum[k, names[j]] / n[k]
			printf "\n"
		}
	}' "$OUT_DIR/fileops-runs.txt" | sort
# Wake-up of an idle CPU by its idle time, no driver involved.
console_lines "$log" | grep '^wakeup:'
rust_text=$(size "$OUT_DIR/module/ssif_bmc.ko" | awk 'NR == 2 { print $1 }')
c_text=$(size "$KB/drivers/char/ipmi/ssif_bmc.ko" | awk 'NR == 2 { print $1 }')
echo "size: rust_text=$rust_text c_text=$c_text"
bash "$REPO/scripts/cost.sh"
