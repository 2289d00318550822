#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Parse the KTAP that KUnit printed on the VM console (boot-time suites and the
suites of loaded modules). Prints one line per suite and then
`kunit: N passed, N failed, N skipped`; exits 1 on any failed case, any case
missing from a suite's plan, a crash in the log, zero cases, or a required
suite that never ran.

usage: ktap.py CONSOLE_LOG [--require SUITE]...
"""
import re
import sys

STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
SUBTEST = re.compile(r"^    # Subtest: (\S+)")
PLAN = re.compile(r"^    1\.\.(\d+)")
CASE = re.compile(r"^    (not ok|ok) \d+ (\S+)(.*)$")
SUITE_END = re.compile(r"^(not ok|ok) \d+ (\S+)")
CRASH = re.compile(r"Kernel panic|Internal error: Oops|BUG: |Unable to handle kernel")


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    log, required = args[0], [args[i + 1] for i, a in enumerate(args) if a == "--require"]
    suites = {}
    crash = None
    current = None
    with open(log, errors="replace") as f:
        for raw in f:
            line = STAMP.sub("", raw.rstrip("\r\n"))
            if CRASH.search(line) and crash is None:
                crash = line.strip()
            m = SUBTEST.match(line)
            if m:
                current = suites.setdefault(m.group(1), {"plan": 0, "pass": 0, "fail": 0, "skip": 0, "failed": []})
                continue
            if current is None:
                continue
            m = PLAN.match(line)
            if m:
                current["plan"] = int(m.group(1))
                continue
            m = CASE.match(line)
            if m:
                status, name, rest = m.groups()
                if "# SKIP" in rest:
                    current["skip"] += 1
                elif status == "ok":
                    current["pass"] += 1
                else:
                    current["fail"] += 1
                    current["failed"].append(name)
                continue
            if SUITE_END.match(line):
                current = None

    passed = failed = skipped = 0
    for name, s in suites.items():
        missing = s["plan"] - (s["pass"] + s["fail"] + s["skip"])
        if missing > 0:
            s["fail"] += missing
            s["failed"].append(f"{missing} case(s) never reported")
        passed, failed, skipped = passed + s["pass"], failed + s["fail"], skipped + s["skip"]
        detail = f" FAILED: {', '.join(s['failed'])}" if s["failed"] else ""
        print(f"kunit suite {name}: {s['pass']} passed, {s['fail']} failed, {s['skip']} skipped{detail}")
    problems = []
    for name in required:
        if name not in suites:
            problems.append(f"required suite {name} did not run")
    if crash:
        problems.append(f"crash in the log: {crash}")
    if passed + failed == 0:
        problems.append("no KUnit case ran")
    for p in problems:
        print(f"kunit: {p}")
    print(f"kunit: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
