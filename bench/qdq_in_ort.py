#!/usr/bin/env python3
"""Top-1 of the QDQ ONNX export (`compress MODEL --emit-onnx`) run by ONNX Runtime, next to
the top-1 of the .wtm the same run wrote (`compress eval`), on ../shared/data/imagenet-eval.

    python3 bench/qdq_in_ort.py [--models lite0,mobilenetv2,squeezenet] [--images N] [--bits int8|int4|int2|ternary]

With --bits below int8, the QDQ weights are int8 restricted to the scheme's levels.

Both are calibrated once, on ../shared/data/imagenet-calib with the main job's defaults.
Top-1 breaks ties by the lower class index on both sides (numpy's argmax, and `compress eval`):
softmax outputs on a 1/256 grid tie often. Prints a table and one JSON line.
"""
import argparse, json, os, subprocess

from common import BIN, MODELS, OUT, SHARED, ort_reference  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--bits", default="int8")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    folder = os.path.join(SHARED, "data", "imagenet-eval")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(folder, "labels.tsv"))][1:a.images + 1]
    results = {}
    for name in a.models.split(","):
        model, prep = MODELS[name]
        model = os.path.join(SHARED, "models", model)
        wtm, qdq = os.path.join(OUT, f"{name}.qdq-run.wtm"), os.path.join(OUT, f"{name}-qdq.onnx")
        subprocess.run([BIN, model, "--data", os.path.join(SHARED, "data", "imagenet-calib"), "--prep", prep,
                        "--bits", a.bits, "-o", wtm, "--emit-onnx", qdq, "--json"], check=True, stdout=subprocess.DEVNULL)
        onnx.checker.check_model(onnx.load(qdq), full_check=True)
        ours = json.loads(subprocess.run([BIN, "eval", wtm, "--data", folder, "--prep", prep, "--count", str(a.images), "--json"],
                                         check=True, capture_output=True, text=True).stdout)
        sess = ort_reference.session(qdq, 1)
        input_name = sess.get_inputs()[0].name
        hits = 0
        for fn, ci, *_ in rows:
            x = ort_reference.preprocess(os.path.join(folder, fn), prep, 224)
            hits += int(np.argmax(sess.run(None, {input_name: x})[0].reshape(-1)) == int(ci))
        ort_top1 = hits / len(rows)
        ops = {}
        for node in onnx.load(qdq).graph.node:
            ops[node.op_type] = ops.get(node.op_type, 0) + 1
        results[name] = {"wtm_top1": ours["top1"], "ort_qdq_top1": ort_top1, "difference_pts": round(100 * (ort_top1 - ours["top1"]), 2),
                         "images": len(rows), "qdq_bytes": os.path.getsize(qdq), "quantize_linear": ops.get("QuantizeLinear", 0),
                         "dequantize_linear": ops.get("DequantizeLinear", 0)}
    print(f"{'model':<14}{'.wtm top-1':>12}{'ORT on QDQ top-1':>18}{'Δ pts':>8}{'images':>8}")
    for name, r in results.items():
        print(f"{name:<14}{100 * r['wtm_top1']:>11.1f}%{100 * r['ort_qdq_top1']:>17.1f}%{r['difference_pts']:>8.1f}{r['images']:>8}")
    print(json.dumps({"qdq": results}))


if __name__ == "__main__":
    main()
