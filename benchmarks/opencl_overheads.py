"""The OpenCL backend's fixed costs: program build time and per-launch overhead.

    python benchmarks/opencl_overheads.py              # the default OpenCL device
    python benchmarks/opencl_overheads.py --json out.json
    PLAX_OPENCL_DEVICE=gfx python benchmarks/opencl_overheads.py

Build times are measured cold: in a child process with empty driver and plax caches
(PoCL's kernel cache is redirected with POCL_CACHE_DIR), so they are what a first
run pays. Reported per program kind:

* ``build_s``: clBuildProgram (the driver's front end);
* ``codegen_s``: the first call minus the build and a warm run: mostly the machine
  code PoCL generates for a program's entry point when it is first launched, plus
  tracing, planning and rendering;
* ``first_call_s``: trace + plan + render + build + first run of ``plax.jit(f)``;
* the same program at a new shape: its kernels are built already (constants are
  kernel parameters), so only tracing, planning and rendering remain.

Launch overhead (warm, in this process):

* ``enqueue_us``: one kernel enqueued by raw pyopencl (the driver's floor);
* ``async_call_us``: a cached jitted call of a one-kernel program, not waited for;
* ``sync_call_us``: the same call followed by ``block_until_ready``;
* ``per_kernel_us``: a cached call of a program of 16 kernels, per kernel;
* ``eager_op_us``: one eager ``x + y`` on small arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def _programs():
    import plax.numpy as pnp
    from plax import lax

    def small(x):
        return pnp.tanh(x) * 3 + x

    def softmax(x):
        e = pnp.exp(x - pnp.max(x, axis=-1, keepdims=True))
        return e / pnp.sum(e, axis=-1, keepdims=True)

    def layernorm(x):
        m = pnp.mean(x, axis=-1, keepdims=True)
        v = pnp.mean((x - m) ** 2, axis=-1, keepdims=True)
        return (x - m) / pnp.sqrt(v + 1e-5)

    def matmul(x):
        return lax.dot(x, x.T)

    return {"elementwise": small, "softmax": softmax, "layernorm": layernorm,
            "matmul": matmul}


def cold_builds() -> dict:
    """In a fresh process with empty caches: build and first-call times per program, then
    the first call of the same program at a new shape (kernels built already)."""
    import plax
    from plax.backend.registry import get_backend

    backend = get_backend("opencl")
    device = backend.devices()[0]
    state = backend.state(device)
    stats = state.programs.stats
    out = {"device": backend.infos[0].label}
    start = time.perf_counter()
    state.programs.program("__kernel void warm_up(__global float* a) { a[0] = 1.0f; }")
    out["driver_init_s"] = time.perf_counter() - start
    for name, f in _programs().items():
        for label, shape in (("", (64, 256)), (" new shape", (96, 200))):
            x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
            xd = plax.device_put(x, device)
            before = dict(stats)
            g = plax.jit(f)
            start = time.perf_counter()
            g(xd).block_until_ready()
            first = time.perf_counter() - start
            build = stats["build_seconds"] - before["build_seconds"]
            warm = []
            for _ in range(5):
                t = time.perf_counter()
                g(xd).block_until_ready()
                warm.append(time.perf_counter() - t)
            run = statistics.median(warm)
            out[name + label] = {
                "first_call_s": first, "build_s": build, "run_s": run,
                "programs": stats["programs"] - before["programs"],
                "kernels": stats["kernels"] - before["kernels"],
                "codegen_s": max(0.0, first - build - run),
            }
    return out


def launch_overheads() -> dict:
    import plax
    import pyopencl as cl
    from plax.backend.registry import get_backend

    backend = get_backend("opencl")
    device = backend.devices()[0]
    state = backend.state(device)
    x = plax.device_put(np.ones(8, np.float32), device)
    y = plax.device_put(np.ones(8, np.float32), device)

    def timed(fn, n=2000):
        fn()
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples.append((time.perf_counter() - start) / n)
        return statistics.median(samples)

    program = state.programs.program("__kernel void nop(__global float* a) { }")
    kernel = cl.Kernel(program, "nop")
    kernel.set_args(x._buffer.mem)

    def raw():
        cl.enqueue_nd_range_kernel(state.queue, kernel, (state.local_size,),
                                   (state.local_size,))

    enqueue = timed(raw)
    state.queue.finish()
    one = plax.jit(lambda a, b: a * b + 1)
    async_call = timed(lambda: one(x, y))
    state.queue.finish()
    sync_call = timed(lambda: one(x, y).block_until_ready(), 500)

    def many(a):
        # 16 outputs: 16 kernels (each output is materialised by its own kernel).
        return [a * k + k for k in range(16)]

    sixteen = plax.jit(many)
    per_kernel = timed(lambda: sixteen(x)[-1].block_until_ready(), 200) / 16
    eager = timed(lambda: (x + y), 500)
    state.queue.finish()
    return {"enqueue_us": enqueue * 1e6, "async_call_us": async_call * 1e6,
            "sync_call_us": sync_call * 1e6, "per_kernel_us": per_kernel * 1e6,
            "eager_op_us": eager * 1e6}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="write the results as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("PLAX_BACKEND", "opencl")
    if args.child:
        print(json.dumps(cold_builds()))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, POCL_CACHE_DIR=os.path.join(tmp, "pocl"),
                   PLAX_CACHE_DIR=os.path.join(tmp, "plax"))
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"], env=env,
                              capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return 1
    cold = json.loads(proc.stdout.strip().splitlines()[-1])
    warm = launch_overheads()
    print(f"device: {cold.pop('device')}")
    print(f"driver start-up (first build of the process): {cold.pop('driver_init_s'):.2f} s")
    print(f"{'program':<22} {'builds':>6} {'kernels':>7} {'build':>9} {'codegen+rest':>12} "
          f"{'first call':>11} {'warm run':>10}")
    for name, row in cold.items():
        print(f"{name:<22} {row['programs']:>6} {row['kernels']:>7} "
              f"{row['build_s'] * 1e3:>7.1f}ms {row['codegen_s'] * 1e3:>10.1f}ms "
              f"{row['first_call_s'] * 1e3:>9.1f}ms {row['run_s'] * 1e3:>8.2f}ms")
    print("launch overhead (warm):")
    for key, value in warm.items():
        print(f"  {key:<15} {value:>8.1f} us")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cold": cold, "warm": warm}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
