"""Times plax (each installed backend), numpy and JAX side by side.

    python benchmarks/run.py                       # plax backends + numpy (+ JAX if importable)
    python benchmarks/run.py --jax-python /path/to/venv-with-jax/bin/python
    python benchmarks/run.py --json out.json --png out.png

Each library runs in its own process. Reported: the median per-call time of the
eager and the jitted version of each workload, the first-call (trace + compile
+ run) time, and ratios against JAX's jit (or numpy where JAX is absent).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# -- worker side -----------------------------------------------------------------------
class _Adapter:
    def __init__(self, name: str):
        self.name = name
        if name == "numpy":
            import numpy

            self.np, self.jit, self.asarray = numpy, None, numpy.asarray
            self.block = lambda x: x
        elif name == "jax":
            import jax
            import jax.numpy as jnp

            self.np, self.jit, self.asarray = jnp, jax.jit, jnp.asarray
            self.block = jax.block_until_ready
        else:  # plax:<backend>
            backend = name.split(":", 1)[1]
            os.environ["PLAX_BACKEND"] = backend
            import plax
            import plax.numpy as pnp

            self.np, self.jit, self.asarray = pnp, plax.jit, pnp.asarray
            self.block = plax.block_until_ready


def _median_time(fn, block, budget_s: float) -> tuple[float, int]:
    block(fn())  # warm up
    samples = []
    deadline = time.perf_counter() + budget_s
    number = 1
    while True:  # grow the inner loop until one sample takes >= 2 ms
        start = time.perf_counter()
        for _ in range(number):
            block(fn())
        elapsed = time.perf_counter() - start
        if elapsed >= 2e-3 or number >= 1 << 16:
            break
        number *= 4
    while len(samples) < 7 or (time.perf_counter() < deadline and len(samples) < 50):
        start = time.perf_counter()
        for _ in range(number):
            block(fn())
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples), number


def worker(lib: str, names: list[str], budget_s: float) -> dict:
    sys.path.insert(0, HERE)
    from workloads import WORKLOADS

    adapter = _Adapter(lib)
    results = {}
    for name in names:
        row = {}
        if adapter.jit is None:
            eager, jitted = WORKLOADS[name](_NoJit(adapter))
        else:
            eager, jitted = WORKLOADS[name](adapter)
        if jitted is not None and adapter.jit is not None:
            start = time.perf_counter()
            adapter.block(jitted())
            row["first_call_s"] = time.perf_counter() - start
            row["jit_s"], _ = _median_time(jitted, adapter.block, budget_s)
        if eager is not None:
            row["eager_s"], _ = _median_time(eager, adapter.block, budget_s)
        results[name] = row
    return results


class _NoJit:
    """numpy has no jit: workloads get an identity ``jit`` and run eagerly."""

    def __init__(self, adapter):
        self.np, self.asarray, self.block = adapter.np, adapter.asarray, adapter.block
        self.jit = lambda f: f


# -- driver side -----------------------------------------------------------------------
def _plax_backends() -> list[str]:
    import plax

    return [b.name for b in plax.backends() if b.available]


def _run_worker(python: str, lib: str, names, budget_s) -> dict | None:
    cmd = [python, os.path.abspath(__file__), "--worker", lib, "--budget", str(budget_s),
           "--workloads", ",".join(names)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"[{lib}] failed:\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def report(results: dict, names) -> list[dict]:
    rows = []
    peer_lib = "jax" if "jax" in results else "numpy"
    for name in names:
        peer = results.get(peer_lib, {}).get(name, {})
        peer_time = peer.get("jit_s", peer.get("eager_s"))
        for lib, per_lib in results.items():
            r = per_lib.get(name, {})
            best = r.get("jit_s", r.get("eager_s"))
            rows.append({
                "workload": name, "library": lib, "eager_s": r.get("eager_s"),
                "jit_s": r.get("jit_s"), "first_call_s": r.get("first_call_s"),
                "ratio_vs_" + peer_lib: (best / peer_time) if best and peer_time else None,
            })
    header = f"{'workload':<18} {'library':<16} {'eager':>10} {'jit':>10} {'first call':>11}  ratio vs {peer_lib}"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row["ratio_vs_" + peer_lib]
        print(f"{row['workload']:<18} {row['library']:<16} {_fmt(row['eager_s']):>10} "
              f"{_fmt(row['jit_s']):>10} {_fmt(row['first_call_s']):>11}  "
              f"{'-' if ratio is None else f'{ratio:.2f}x'}")
    return rows


def _chart(rows, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed; no chart written to {path}", file=sys.stderr)
        return
    key = next(k for k in rows[0] if k.startswith("ratio_vs_"))
    labels = [f"{r['workload']}\n{r['library']}" for r in rows if r[key] is not None]
    values = [r[key] for r in rows if r[key] is not None]
    fig, ax = plt.subplots(figsize=(max(6, len(values) * 0.6), 4))
    ax.bar(range(len(values)), values)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(values)), labels, rotation=90, fontsize=7)
    ax.set_ylabel(f"time / {key[len('ratio_vs_'):]} time")
    ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"chart written to {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workloads", default="", help="comma-separated subset")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--jax-python", default=sys.executable,
                        help="interpreter that has jax installed (default: this one)")
    parser.add_argument("--no-jax", action="store_true")
    parser.add_argument("--json", help="write results as JSON")
    parser.add_argument("--png", help="draw a bar chart of the ratios")
    args = parser.parse_args(argv)

    sys.path.insert(0, HERE)
    from workloads import WORKLOADS

    names = [n for n in args.workloads.split(",") if n] or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    if args.worker:
        print(json.dumps(worker(args.worker, names, args.budget)))
        return 0

    libs = [(sys.executable, f"plax:{b}") for b in _plax_backends()]
    libs.append((sys.executable, "numpy"))
    if not args.no_jax:
        libs.append((args.jax_python, "jax"))
    results = {}
    for python, lib in libs:
        out = _run_worker(python, lib, names, args.budget)
        if out is not None:
            results[lib] = out
    rows = report(results, names)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "rows": rows, "python": sys.version}, f, indent=2)
    if args.png:
        _chart(rows, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
