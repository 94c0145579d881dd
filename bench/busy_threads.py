#!/usr/bin/env python3
"""Two threads on a busy machine: int8 latency with one and two threads, ours and ONNX Runtime's,
with the machine quiet and with a CPU-bound competitor (one Python busy loop) taking a core,
measured alternately in the same run. What matters is each runtime's ratio of two threads to
one in the same state: below 1, the second thread helps; far above 1, the pool is fighting the
competitor for the core it needs.

    python3 bench/busy_threads.py [--rounds 3] [--runs 20] [--models lite0,mobilenetv2] [--compare OTHER_COMPRESS]

--compare adds a second build of `compress` (e.g. one from before a pool change) to the table.
The models are made as in bench/int8_vs_ort.py (calibrated on 20 images; ONNX Runtime's QDQ
U8S8 per-channel). Prints a table and one JSON line.
"""
import argparse, json, os, statistics, subprocess, sys

from common import BIN, OUT, SHARED, ort_reference  # noqa: E402
from int8_vs_ort import prepared  # noqa: E402


def ours_ms(binary, wtm, runs, threads):
    out = subprocess.run([binary, "profile", wtm, "--runs", str(runs), "--threads", str(threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["median_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--models", default="lite0,mobilenetv2")
    ap.add_argument("--compare", help="another compress binary to measure beside this build's")
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(SHARED, "data", "imagenet-calib")):
        print("(../shared/data is absent: the benchmark needs the ImageNet models and calibration images; skipping it)")
        return
    os.makedirs(OUT, exist_ok=True)
    binaries = {"ours": BIN} | ({"compare": os.path.abspath(a.compare)} if a.compare else {})
    results = {}
    for name in a.models.split(","):
        wtm, sessions, x = prepared(name)
        ms = {state: {who: {1: [], 2: []} for who in ["ort", *binaries]} for state in ("quiet", "busy")}
        for _ in range(a.rounds):
            for state in ("quiet", "busy"):
                competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if state == "busy" else None
                try:
                    for threads in (1, 2):
                        ms[state]["ort"][threads].append(ort_reference.latency_ms(sessions[threads], x, a.runs))
                        for who, binary in binaries.items():
                            ms[state][who][threads].append(ours_ms(binary, wtm, a.runs, threads))
                finally:
                    if competitor:
                        competitor.kill()
                        competitor.wait()
        r = {}
        for state, by in ms.items():
            for who, t in by.items():
                ratios = [two / one for one, two in zip(t[1], t[2])]
                r[f"{state}_{who}"] = {"one_ms": statistics.median(t[1]), "two_ms": statistics.median(t[2]),
                                       "ratio": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)]}
        results[name] = r
    print(f"{'model':<13}{'state':<7}{'runtime':<9}{'1 thread ms':>12}{'2 threads ms':>14}{'2/1':>7}{'range':>13}")
    for name, r in results.items():
        for key, v in r.items():
            state, who = key.split("_", 1)
            lo, hi = v["ratio_range"]
            print(f"{name:<13}{state:<7}{who:<9}{v['one_ms']:>12.2f}{v['two_ms']:>14.2f}{v['ratio']:>7.2f}{f'{lo:.2f}-{hi:.2f}':>13}")
    print(json.dumps({"busy_threads": results}))


if __name__ == "__main__":
    main()
