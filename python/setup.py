"""Builds the C runtime (../Sources/Runtime) with the binding's shim into one shared library
that `whittle.runtime` loads with ctypes: no Python C API, so one build serves any Python 3.
`pip install ./python` builds in place, where ../Sources is in reach."""
from pathlib import Path

from setuptools import Extension, setup

here = Path(__file__).resolve().parent
runtime = here.parent / "Sources" / "Runtime"
sources = sorted(str(p.relative_to(here.parent).as_posix()) for pattern in ("*.c", "kernels/*.c", "kernels/*/*.c")
                 for p in runtime.glob(pattern))
if not sources:
    raise SystemExit(f"the C runtime's sources are not at {runtime}: install from a clone, `pip install ./python`")

setup(ext_modules=[Extension(
    "whittle._runtime",
    sources=["whittle/_shim.c"] + ["../" + s for s in sources],
    include_dirs=[str(runtime / "include"), str(runtime)],
    extra_compile_args=["-std=c99", "-O2", "-ffp-contract=off"],
    libraries=["m", "pthread"],
)])
