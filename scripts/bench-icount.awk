# SPDX-License-Identifier: GPL-2.0
# The deterministic benchmark's figures (scripts/bench.sh, BENCH_MODE=icount), from one boot's
# `calibrate:` and `icountrun:` lines (tests/vm/scenarios/bench.sh):
#   awk -f scripts/bench-icount.awk bench-icount-runs.txt
# Guest ns become instructions by the calibrated rate; the link's timing of each event and
# the responder-side timing of each file call are measured in the same run and taken off.
# Prints the bench-icount: headline per workload (bus timing off), bench-icount-100khz: (the
# link at 100 kHz) and the detail lines. Exits 1, after printing, if the run is not one the
# figures can be trusted from:
# - a transaction had a NAKed poll (the client read 0x03 before the responder answered: on
#   one CPU a scheduling race, which the SCHED_FIFO responder is there to rule out);
# - two rounds of one figure of one driver and workload differ by more than 0.5 %.
function kv(line, f,   i, a, n, p) {
	delete f
	n = split(line, a, " ")
	for (i = 1; i <= n; i++)
		if (split(a[i], p, "=") == 2) f[p[1]] = p[2]
}
# Instructions in the callbacks per transaction, from a txn line's fields with prefix @p.
function cb_of(f, p) {
	return (f[p "txn_cb_ns"] - f[p "txn_events"] * f["link_overhead_ns"]) * k
}
function fail(msg) {
	print "bench-icount: FAIL: " msg
	failed = 1
}
# Figure @fig of @key in round @r: summed for the mean, kept for the spread check.
function add(key, fig, r, v) {
	sum[key, fig] += v
	if (!((key, fig) in lo) || v < lo[key, fig]) lo[key, fig] = v
	if (!((key, fig) in hi) || v > hi[key, fig]) hi[key, fig] = v
}
/^calibrate:/ { kv($0, f); k = f["insn_per_ns"]; next }
/^icountrun:/ {
	kv($0, f); w = f["workload"]; d = f["driver"]; r = f["round"]; key = w SUBSEP d
	if (!("k100_txn_ns" in f)) { print "bench-icount: an icountrun line without the 100 kHz figures"; bad = 1; exit 1 }
	cb = cb_of(f, ""); cb100 = cb_of(f, "k100_")
	fo = (f["poll_ns"] + f["read_ns"] + f["write_ns"] - 3 * f["user_overhead_ns"]) * k
	ops = (f["cb_ns"] - f["events"] * f["link_overhead_ns"]) * k
	n[key]++; runs++
	add(key, "cb_insn", r, cb); add(key, "fileops_insn", r, fo); add(key, "txn_ns", r, f["txn_ns"])
	add(key, "cb_insn_100khz", r, cb100); add(key, "txn_ns_100khz", r, f["k100_txn_ns"])
	add(key, "cb_insn_request_response_only", r, ops)
	sum_naks[key] += f["naks"]; sum_naks100[key] += f["k100_naks"]
	if (f["naks"] + 0 || f["k100_naks"] + 0)
		fail(sprintf("workload=%s driver=%s round=%s naks=%s naks_100khz=%s: the client read before the responder had answered", \
			w, d, r, f["naks"], f["k100_naks"]))
	lsum += f["link_overhead_ns"] * k; usum += f["user_overhead_ns"] * k
	rounds[key] = rounds[key] sprintf(" %d:%.0f/%.0f/%.0f/%.0f", r, cb, fo, f["txn_ns"], f["k100_txn_ns"])
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
function m(key, fig) { return sum[key, fig] / n[key] }
END {
	if (bad) exit 1
	if (!k) { print "bench-icount: no calibration line"; exit 1 }
	if (!runs) { print "bench-icount: no icountrun lines"; exit 1 }
	# Taken off each event (the link) and each file call (the responder), means.
	printf "bench-icount-calib: insn_per_ns=%.4f link_timing_insn=%.1f user_timing_insn=%.1f\n", k, lsum / runs, usum / runs
	for (w in ws) {
		r = w SUBSEP "rust"; c = w SUBSEP "c"
		if (!n[r] || !n[c]) { print "bench-icount: workload " w " lacks a driver"; exit 1 }
		printf "bench-icount: workload=%s rust_cb_insn=%.0f c_cb_insn=%.0f cb_ratio=%.3f rust_fileops_insn=%.0f c_fileops_insn=%.0f fileops_ratio=%.3f rust_txn_ns=%.0f c_txn_ns=%.0f txn_ratio=%.3f\n", \
			w, m(r, "cb_insn"), m(c, "cb_insn"), m(r, "cb_insn") / m(c, "cb_insn"), \
			m(r, "fileops_insn"), m(c, "fileops_insn"), m(r, "fileops_insn") / m(c, "fileops_insn"), \
			m(r, "txn_ns"), m(c, "txn_ns"), m(r, "txn_ns") / m(c, "txn_ns")
	}
	for (w in ws) {
		r = w SUBSEP "rust"; c = w SUBSEP "c"
		printf "bench-icount-100khz: workload=%s rust_txn_ns=%.0f c_txn_ns=%.0f txn_ratio=%.4f rust_cb_insn=%.0f c_cb_insn=%.0f cb_ratio=%.3f\n", \
			w, m(r, "txn_ns_100khz"), m(c, "txn_ns_100khz"), m(r, "txn_ns_100khz") / m(c, "txn_ns_100khz"), \
			m(r, "cb_insn_100khz"), m(c, "cb_insn_100khz"), m(r, "cb_insn_100khz") / m(c, "cb_insn_100khz")
	}
	nf = split("cb_insn fileops_insn txn_ns cb_insn_100khz txn_ns_100khz cb_insn_request_response_only", figs, " ")
	for (w in ws)
		for (i = 1; i <= 2; i++) {
			d = i == 1 ? "rust" : "c"; key = w SUBSEP d
			printf "bench-icount-events: workload=%s driver=%s", w, d
			for (name in evnames)
				printf " %s=%.2fx%.0f", substr(name, 8), ev[key, name] / n[key], evi[key, name] / n[key]
			printf "\n"
			printf "bench-icount-fileops: workload=%s driver=%s poll_insn=%.0f read_insn=%.0f write_insn=%.0f\n", \
				w, d, po[key] / n[key], rd[key] / n[key], wr[key] / n[key]
			# NAKed polls per transaction (the checks below want none), and the callbacks
			# of a request and its response alone (icount-ops: nobody to wake).
			printf "bench-icount-txn: workload=%s driver=%s naks=%.3f naks_100khz=%.3f cb_insn_100khz=%.0f cb_insn_request_response_only=%.0f\n", \
				w, d, sum_naks[key] / n[key], sum_naks100[key] / n[key], m(key, "cb_insn_100khz"), m(key, "cb_insn_request_response_only")
			printf "bench-icount-rounds: workload=%s driver=%s round:cb_insn/fileops_insn/txn_ns/txn_ns_100khz%s\n", w, d, rounds[key]
			# The rounds of one boot must agree as two boots are to (0.5 %).
			spread = 0; worst = "none"
			for (j = 1; j <= nf; j++) {
				s = lo[key, figs[j]] > 0 ? hi[key, figs[j]] / lo[key, figs[j]] - 1 : 0
				if (s > spread) { spread = s; worst = figs[j] }
				if (s > 0.005)
					fail(sprintf("workload=%s driver=%s %s: rounds range %.0f..%.0f (%.2f %% > 0.5 %%)", \
						w, d, figs[j], lo[key, figs[j]], hi[key, figs[j]], 100 * s))
			}
			printf "bench-icount-spread: workload=%s driver=%s rounds=%d max_spread_pct=%.3f figure=%s\n", \
				w, d, n[key], 100 * spread, worst
		}
	if (failed) exit 1
}
