#!/usr/bin/env python3
"""Cycles per iteration of the NEON GEMM inner loops, estimated by llvm-mca (no ARM hardware
needed), next to the theoretical count, for docs/kernels.md.

    python3 bench/neon_mca.py          (installs llvm-19 and gcc-aarch64-linux-gnu when missing)

Compiles kernels/neon/neon_kernels.c with aarch64-linux-gnu-gcc -O2 -S, takes the innermost
loop of each micro-kernel (the basic block holding its multiply instructions) and runs
llvm-mca-19 -mcpu=neoverse-n1 on it. One iteration is one depth group: 4 pixels × 8 channels ×
4 depths = 128 multiply-accumulates. Theoretical: the vector multiply/accumulate instructions
over Neoverse N1's two vector pipes.
"""
import os, re, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME = os.path.join(ROOT, "Sources", "Runtime")


def ensure(tool, package):
    if shutil.which(tool) is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL)


def inner_loop(assembly, function, marker):
    body = assembly[assembly.index(function + ":"):]
    body = body[:body.index(".size\t" + function + ",")]
    blocks, current = [], None
    for line in body.split("\n"):
        if re.match(r"^\.L\d+:", line):
            current = []
            blocks.append(current)
        elif current is not None and line.strip() and not line.strip().startswith("."):
            current.append(line)
    return max((b for b in blocks if sum(marker in l for l in b) >= 8), key=lambda b: sum(marker in l for l in b))


def main():
    ensure("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
    ensure("llvm-mca-19", "llvm-19")
    with tempfile.TemporaryDirectory() as d:
        asm = os.path.join(d, "neon.s")
        subprocess.run(["aarch64-linux-gnu-gcc", "-std=c99", "-O2", "-I" + os.path.join(RUNTIME, "include"), "-I" + RUNTIME, "-S",
                        os.path.join(RUNTIME, "kernels", "neon", "neon_kernels.c"), "-o", asm], check=True)
        text = open(asm).read()
        print(f"{'loop':<28}{'instructions':>14}{'llvm-mca cycles':>18}{'theoretical':>14}")
        for function, marker, vector_ops in [("gemm_4x8c4__neondot", "sdot", ("sdot",)),
                                             ("gemm_4x8c4__neon", "smull", ("smull", "sadalp"))]:
            loop = inner_loop(text, function, marker)
            path = os.path.join(d, function + ".s")
            open(path, "w").write("\n".join(loop) + "\n")
            out = subprocess.run(["llvm-mca-19", "-mtriple=aarch64", "-mcpu=neoverse-n1", "-iterations=1000", path],
                                 check=True, capture_output=True, text=True).stdout
            cycles = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1)) / 1000
            theoretical = sum(any(op in l.split()[0] for op in vector_ops) for l in loop) / 2
            print(f"{function:<28}{len(loop):>14}{cycles:>18.2f}{theoretical:>14.1f}")


if __name__ == "__main__":
    sys.exit(main())
