#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench [BENCH_ROUNDS=4] [BENCH_SECS=10] [SOC=ast2600]: our driver against upstream's C
# ssif_bmc in the same boot (BENCH_ROUNDS rounds of BENCH_SECS seconds per driver
# and workload; which driver goes first alternates), plus module size and
# instructions per bus byte.
# Prints:
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
# The bench scenario runs the client on CPU 0 and the responder on CPU 1.
[ "$SOC" != ast2500 ] || die "make bench needs two CPUs (client and responder apart); the AST2500 has one"
bash "$REPO/scripts/prepare.sh"
KB=$(kbuild_dir)
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
