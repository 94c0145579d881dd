#!/usr/bin/env python3
"""Float Engine forward time against ONNX Runtime fp32, one thread each, measured alternately
in the same run (this machine is shared and noisy: compare the ratios, not the milliseconds).

    python3 bench/engine_vs_ort.py [MODEL.onnx] [--rounds 6] [--runs 3]

Each round times our batch 32 (`--runs` batches) and then, straight after, ONNX Runtime at
batch 1 on as many images, so both sides of a round's ratio see the same state of the machine
for about the same time; the target ratio is the median of the rounds' ratios. Prints a table
and one JSON line. Our side is .build/release/engine-bench with
OPENBLAS_NUM_THREADS=1 (and =2, reported apart: only OpenBLAS's SGEMM uses the second core);
ONNX Runtime runs with intra_op_num_threads=1 and full graph optimization.
"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    import numpy as np
    import onnxruntime as ort
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "onnxruntime", "numpy"], check=True)
    import numpy as np
    import onnxruntime as ort


def ort_ms(session, batch, runs):
    """(median, minimum) milliseconds of one run at this batch, over `runs` runs."""
    inp = session.get_inputs()[0]
    shape = [batch] + [d if isinstance(d, int) else 1 for d in inp.shape[1:]]
    x = (np.arange(np.prod(shape)) % 255 / 127.5 - 1).astype(np.float32).reshape(shape)
    for _ in range(3):
        session.run(None, {inp.name: x})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        session.run(None, {inp.name: x})
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), min(times)


def ours_ms(model, batches, runs, threads=1):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([os.path.join(ROOT, ".build", "release", "engine-bench"), model, "--batches",
                          ",".join(map(str, batches)), "--runs", str(runs)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return {r["batch"]: (r["median_ms"], r["min_ms"]) for r in json.loads(out)["results"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=os.path.join(ROOT, "models", "efficientnet-lite0-fp32.onnx"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    batches = [1, 32]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    session = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    ours = {b: [] for b in batches}
    ours2 = {b: [] for b in batches}
    theirs = {b: [] for b in batches}
    ratios = []
    for _ in range(a.rounds):
        for b, ms in ours_ms(a.model, batches, a.runs).items():
            ours[b].append(ms)
        # ONNX Runtime at batch 1 on as many images as our batch-32 runs, right after them
        theirs[1].append(ort_ms(session, 1, 32 * a.runs))
        ratios.append(ours[32][-1][0] / 32 / theirs[1][-1][0])
    for _ in range(a.rounds):
        for b, ms in ours_ms(a.model, batches, a.runs, threads=2).items():
            ours2[b].append(ms)
        try:
            theirs[32].append(ort_ms(session, 32, a.runs))
        except Exception:  # a model with a static batch of 1 runs in ONNX Runtime at batch 1 only
            pass
    result = {"model": os.path.basename(a.model), "threads": 1}
    def median(pairs):
        return statistics.median(p[0] for p in pairs)

    def best(pairs):
        return min(p[1] for p in pairs)

    print("medians over the rounds (fastest single run in brackets)")
    print(f"{'batch':>5} {'Engine ms/img':>16} {'ORT ms/img':>19} {'ratio':>6}")
    for b in batches:
        mine, mine_best = median(ours[b]) / b, best(ours[b]) / b
        result[f"engine_ms_per_image_b{b}"] = round(mine, 3)
        result[f"engine_best_ms_per_image_b{b}"] = round(mine_best, 3)
        if not theirs[b]:
            print(f"{b:>5} {mine:>8.2f} [{mine_best:5.2f}] {'(static batch)':>18}")
            continue
        other, other_best = median(theirs[b]) / b, best(theirs[b]) / b
        result[f"ort_ms_per_image_b{b}"] = round(other, 3)
        result[f"ort_best_ms_per_image_b{b}"] = round(other_best, 3)
        print(f"{b:>5} {mine:>8.2f} [{mine_best:5.2f}] {other:>11.2f} [{other_best:5.2f}] {mine / other:>6.2f}")
    for b in batches:
        result[f"engine_2threads_ms_per_image_b{b}"] = round(median(ours2[b]) / b, 3)
        print(f"{b:>5} {result[f'engine_2threads_ms_per_image_b{b}']:>8.2f}  (Engine with 2 OpenBLAS threads)")
    target = statistics.median(ratios)
    result["engine_b32_over_ort_b1"] = round(target, 3)
    result["engine_b32_over_ort_b1_rounds"] = [round(r, 3) for r in ratios]
    result["engine_b32_over_ort_b1_best"] = round(result["engine_best_ms_per_image_b32"] / result["ort_best_ms_per_image_b1"], 3)
    print("Engine batch-32 per image / ONNX Runtime batch 1, per round: " + " ".join(f"{r:.2f}" for r in ratios))
    print(f"median {target:.2f} (range {min(ratios):.2f}-{max(ratios):.2f}), "
          f"{result['engine_b32_over_ort_b1_best']:.2f} fastest runs (target <= 1.5)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
