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
#   instructions per transaction; guest ns per whole transaction), and the detail lines
#   bench-icount-calib:, bench-icount-events:, bench-icount-fileops:, bench-icount-txn:,
#   bench-icount-rounds:.
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
	# instructions on one clock. With QEMU 7.2 and -smp 2 the guest never gets past its
	# first stop_machine() under -icount (the second vCPU is never run again), so the guest
	# brings up one CPU (maxcpus=1): client, responder and callbacks share it, and every
	# timed window counts only its own instructions.
	ilog="$OUT_DIR/bench-icount-console.log"
	irounds=${BENCH_ICOUNT_ROUNDS:-2}
	txns=${BENCH_TXNS:-100}
	DTB="$(soc_stock_dtb)" SSIF_QEMU_ARGS="-icount shift=0,sleep=off -smp 2" \
		EXTRA_APPEND="maxcpus=1 ssif.icount=1 ssif.rounds=$irounds ssif.txns=$txns" \
		bash "$REPO/scripts/run-vm.sh" bench "$ilog" $((600 + irounds * txns * 12)) ||
		{ echo "bench-icount: the VM run failed (console: $ilog)"; exit 1; }
	echo "bench-icount: kernel=$KVARIANT $(basename "$KB") qemu=$(qemu-system-arm --version | awk 'NR == 1 { print $4 }')"
	console_lines "$ilog" | grep -E '^(calibrate|icountrun):' >"$OUT_DIR/bench-icount-runs.txt"
	# Guest ns become instructions by the calibrated rate; the link's timing of each event and
	# the responder-side timing of each file call are measured in the same run and taken off.
	awk '
		function kv(line, f,   i, a, n, p) {
			delete f
			n = split(line, a, " ")
			for (i = 1; i <= n; i++)
				if (split(a[i], p, "=") == 2) f[p[1]] = p[2]
		}
		/^calibrate:/ { kv($0, f); k = f["insn_per_ns"]; next }
		{
			kv($0, f); w = f["workload"]; d = f["driver"]; r = f["round"]; key = w SUBSEP d
			cb = (f["txn_cb_ns"] - f["txn_events"] * f["link_overhead_ns"]) * k
			opscb[key] += (f["cb_ns"] - f["events"] * f["link_overhead_ns"]) * k
			fo = (f["poll_ns"] + f["read_ns"] + f["write_ns"] - 3 * f["user_overhead_ns"]) * k
			n[key]++; sum_cb[key] += cb; sum_fo[key] += fo; sum_txn[key] += f["txn_ns"]
			sum_naks[key] += f["naks"]; runs++; lo += f["link_overhead_ns"] * k; uo += f["user_overhead_ns"] * k
			rounds[key] = rounds[key] sprintf(" %d:%.0f/%.0f/%.0f", r, cb, fo, f["txn_ns"])
			for (name in f)
				if (name ~ /^txn_cb_[a-z_]+$/ && name != "txn_cb_ns") {
					split(f[name], cx, "x"); ev[key, name] += cx[1]; evi[key, name] += (cx[2] - f["link_overhead_ns"]) * k
					evnames[name] = 1
				}
			po[key] += (f["poll_ns"] - f["user_overhead_ns"]) * k
			rd[key] += (f["read_ns"] - f["user_overhead_ns"]) * k
			wr[key] += (f["write_ns"] - f["user_overhead_ns"]) * k
			ws[w] = 1
		}
		END {
			if (!k) { print "bench-icount: no calibration line"; exit 1 }
			if (!runs) { print "bench-icount: no icountrun lines"; exit 1 }
			# Taken off each event (the link) and each file call (the responder), means.
			printf "bench-icount-calib: insn_per_ns=%.4f link_timing_insn=%.1f user_timing_insn=%.1f\n", k, lo / runs, uo / runs
			for (w in ws) {
				r = w SUBSEP "rust"; c = w SUBSEP "c"
				if (!n[r] || !n[c]) { print "bench-icount: workload " w " lacks a driver"; exit 1 }
				rcb = sum_cb[r] / n[r]; ccb = sum_cb[c] / n[c]
				rfo = sum_fo[r] / n[r]; cfo = sum_fo[c] / n[c]
				rtx = sum_txn[r] / n[r]; ctx = sum_txn[c] / n[c]
				printf "bench-icount: workload=%s rust_cb_insn=%.0f c_cb_insn=%.0f cb_ratio=%.3f rust_fileops_insn=%.0f c_fileops_insn=%.0f fileops_ratio=%.3f rust_txn_ns=%.0f c_txn_ns=%.0f txn_ratio=%.3f\n", \
					w, rcb, ccb, rcb / ccb, rfo, cfo, rfo / cfo, rtx, ctx, rtx / ctx
			}
			for (w in ws)
				for (i = 1; i <= 2; i++) {
					d = i == 1 ? "rust" : "c"; key = w SUBSEP d
					printf "bench-icount-events: workload=%s driver=%s", w, d
					for (name in evnames)
						printf " %s=%.2fx%.0f", substr(name, 8), ev[key, name] / n[key], evi[key, name] / n[key]
					printf "\n"
					printf "bench-icount-fileops: workload=%s driver=%s poll_insn=%.0f read_insn=%.0f write_insn=%.0f\n", \
						w, d, po[key] / n[key], rd[key] / n[key], wr[key] / n[key]
					# NAKed polls per transaction, and the callbacks of a request and its
					# response alone (icount-ops: no NAKed poll, nobody to wake).
					printf "bench-icount-txn: workload=%s driver=%s naks=%.3f cb_insn_request_response_only=%.0f\n", \
						w, d, sum_naks[key] / n[key], opscb[key] / n[key]
					printf "bench-icount-rounds: workload=%s driver=%s round:cb_insn/fileops_insn/txn_ns%s\n", w, d, rounds[key]
				}
		}' "$OUT_DIR/bench-icount-runs.txt"
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
