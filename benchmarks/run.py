"""Times plax (each installed backend), numpy and JAX side by side.

    python benchmarks/run.py                       # plax backends + numpy (+ JAX if importable)
    python benchmarks/run.py --jax-python /path/to/venv-with-jax/bin/python
    python benchmarks/run.py --json out.json --png out.png
    python benchmarks/run.py --workloads matmul_256,rnn_scan_1000 --backends cpu_llvm

Each library runs in its own process. Reported per workload and library:

* ``eager`` and ``jit``: median per-call time of the eager and the jitted version
  (numpy has no jit: its one time is reported as eager);
* ``vs jax`` and ``vs numpy``: this library's best time (jit, else eager) over JAX's and
  numpy's; ``target``: the issue's target for plax's cpu_llvm (`workloads.TARGETS`);
* ``1st cold``: the first call (trace + compile + run) of the jitted version in a fresh
  process, with empty caches (an empty ``PLAX_CACHE_DIR`` and ``POCL_CACHE_DIR``; JAX
  without a persistent compilation cache); ``1st warm`` (plax only): the same in a second
  fresh process sharing the first one's cache directories; both also as ratios over
  JAX's cold first call. Inputs are created before the clock starts.

Then the wall time of ``python -c "import plax"`` and ``... "import jax"`` (median of
fresh processes; ``python -c pass`` for reference). Results agree across libraries or
are flagged: each run records a checksum of its output (``!`` in the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from workloads import (  # noqa: E402
    FIRST_CALL_TARGETS,
    IMPORT_TARGET,
    TARGETS,
    WORKLOADS,
    NumpyLax,
)

CHECKSUM_RTOL = 1e-3


# -- worker side -----------------------------------------------------------------------
class _Adapter:
    """One library's numpy-like namespace, jit, lax, grad, asarray and block."""

    def __init__(self, name: str):
        self.name = name
        if name == "numpy":
            self.np, self.asarray, self.lax, self.grad = np, np.asarray, NumpyLax, None
            self.jit = lambda f: f
            self.block = lambda x: x
        elif name == "jax":
            import jax
            import jax.numpy as jnp

            self.np, self.asarray, self.lax, self.grad = jnp, jnp.asarray, jax.lax, jax.grad
            self.jit, self.block = jax.jit, jax.block_until_ready
        else:  # plax:<backend>
            os.environ["PLAX_BACKEND"] = name.split(":", 1)[1]
            import plax
            import plax.numpy as pnp

            self.np, self.asarray, self.lax, self.grad = pnp, pnp.asarray, plax.lax, plax.grad
            self.jit, self.block = plax.jit, plax.block_until_ready


def _median_time(fn, block, budget_s: float) -> float:
    block(fn())  # warm up
    number = 1
    while True:  # grow the inner loop until one sample takes >= 2 ms
        start = time.perf_counter()
        for _ in range(number):
            block(fn())
        if time.perf_counter() - start >= 2e-3 or number >= 1 << 16:
            break
        number *= 4
    samples = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < 7 or (time.perf_counter() < deadline and len(samples) < 50):
        start = time.perf_counter()
        for _ in range(number):
            block(fn())
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def _checksum(out) -> float:
    """Sum of |x| over every leaf of a result, in float64: equal results, equal sums."""
    if isinstance(out, (tuple, list)):
        return sum(_checksum(leaf) for leaf in out)
    return float(np.abs(np.asarray(out, dtype=np.float64)).sum())


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:400]


def steady_worker(lib: str, names: list[str], budget_s: float) -> dict:
    adapter = _Adapter(lib)
    results = {}
    for name in names:
        row = {}
        try:
            eager, jitted = WORKLOADS[name](adapter)
            if lib == "numpy":  # one time only: jit is the identity
                eager, jitted = eager or jitted, None
            if jitted is not None:
                row["checksum"] = _checksum(adapter.block(jitted()))
                row["jit_s"] = _median_time(jitted, adapter.block, budget_s)
            if eager is not None:
                row.setdefault("checksum", _checksum(adapter.block(eager())))
                row["eager_s"] = _median_time(eager, adapter.block, budget_s)
        except Exception as exc:  # one failing workload must not hide the others
            row["error"] = _error(exc)
        results[name] = row
    return results


def first_call_worker(lib: str, name: str) -> dict:
    adapter = _Adapter(lib)
    try:
        _, jitted = WORKLOADS[name](adapter)
        if jitted is None:
            return {}
        start = time.perf_counter()
        adapter.block(jitted())
        return {"first_call_s": time.perf_counter() - start}
    except Exception as exc:
        return {"error": _error(exc)}


# -- driver side -----------------------------------------------------------------------
def _plax_backends() -> list[str]:
    import plax

    return [b.name for b in plax.backends() if b.available]


def _child(python: str, args: list[str], env=None, timeout=None) -> dict:
    cmd = [python, os.path.abspath(__file__), *args]
    label = " ".join(args)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"[{label}] timed out after {timeout} s", file=sys.stderr)
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        print(f"[{label}] failed:\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
        return {"error": proc.stderr.strip()[-400:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def first_calls(python_for: dict, names, timeout) -> dict:
    """Per library and workload: cold (and for plax warm) first calls, each in a fresh process."""
    out = {}
    for lib, python in python_for.items():
        if lib == "numpy":
            continue
        for name in names:
            with tempfile.TemporaryDirectory() as tmp:
                env = dict(
                    os.environ,
                    PLAX_CACHE_DIR=os.path.join(tmp, "plax"),
                    POCL_CACHE_DIR=os.path.join(tmp, "pocl"),
                    JAX_ENABLE_COMPILATION_CACHE="false",
                )
                env.pop("JAX_COMPILATION_CACHE_DIR", None)
                args = ["--first-call", lib, "--workloads", name]
                cold = _child(python, args, env, timeout)
                row = {"first_cold_s": cold.get("first_call_s"), "error": cold.get("error")}
                if lib.startswith("plax:") and "first_call_s" in cold:
                    row["first_warm_s"] = _child(python, args, env, timeout).get("first_call_s")
            out.setdefault(lib, {})[name] = {k: v for k, v in row.items() if v is not None}
            print(
                f"  first call {lib:<16} {name:<20} {_fmt(row['first_cold_s']):>10} "
                f"{_fmt(row.get('first_warm_s')):>10}",
                file=sys.stderr,
            )
    return out


def import_times(python_for: dict, runs: int) -> dict:
    """Median wall time of `python -c "import <module>"` in fresh processes, and of
    `python -c pass` (the interpreter alone), interleaved so all see the same load."""
    commands = {}
    for lib, python in python_for.items():
        module = {"jax": "jax", "numpy": None}.get(lib, "plax")
        if module:
            commands[(module, "import_s")] = [python, "-c", f"import {module}"]
            commands[(module, "python_s")] = [python, "-c", "pass"]
    samples = {key: [] for key in commands}
    for i in range(runs + 1):  # the first round only fills the page cache
        for key, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=HERE, capture_output=True)
            if i:
                samples[key].append(time.perf_counter() - start)
    out = {}
    for (module, field), times in samples.items():
        out.setdefault(module, {})[field] = statistics.median(times)
    return out


def _fmt(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _ratio(a, b):
    return a / b if a and b else None


def _fmt_ratio(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def build_rows(results: dict, names) -> list[dict]:
    rows = []
    for name in names:
        by_lib = {lib: per_lib.get(name, {}) for lib, per_lib in results.items()}
        best = {lib: r.get("jit_s", r.get("eager_s")) for lib, r in by_lib.items()}
        jax_first = by_lib.get("jax", {}).get("first_cold_s")
        # Outputs are checked against numpy's, or JAX's where numpy has no version.
        checked = [by_lib[lib] for lib in ("numpy", "jax") if "checksum" in by_lib.get(lib, {})]
        reference = checked[0]["checksum"] if checked else None
        for lib, r in by_lib.items():
            row = {
                "workload": name,
                "library": lib,
                "eager_s": r.get("eager_s"),
                "jit_s": r.get("jit_s"),
                "ratio_vs_jax": _ratio(best[lib], best.get("jax")),
                "ratio_vs_numpy": _ratio(best[lib], best.get("numpy")),
                "first_cold_s": r.get("first_cold_s"),
                "first_warm_s": r.get("first_warm_s"),
                "first_cold_vs_jax": _ratio(r.get("first_cold_s"), jax_first),
                "first_warm_vs_jax": _ratio(r.get("first_warm_s"), jax_first),
                "checksum_ok": None,
                "error": r.get("error"),
            }
            if reference is not None and "checksum" in r:
                row["checksum_ok"] = abs(r["checksum"] - reference) <= CHECKSUM_RTOL * max(
                    abs(reference), 1.0
                )
            if lib == "plax:cpu_llvm" and name in TARGETS:
                peer, limit = TARGETS[name]
                row["target"] = {
                    "peer": peer,
                    "max_ratio": limit,
                    "met": _met(row["ratio_vs_" + peer], limit),
                }
            rows.append(row)
    return rows


def _met(ratio, limit):
    return None if ratio is None else ratio <= limit


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'workload':<20} {'library':<15} {'eager':>10} {'jit':>10} {'vs jax':>7} "
        f"{'vs numpy':>8} {'target':>14} {'1st cold':>10} {'1st warm':>10} "
        f"{'cold/jax':>8} {'warm/jax':>8}"
    )
    print(header)
    print("-" * len(header))
    previous = None
    for row in rows:
        if previous is not None and row["workload"] != previous:
            print()
        previous = row["workload"]
        lib = row["library"] + ("!" if row["checksum_ok"] is False else "")
        target = row.get("target")
        target_text = ""
        if target:
            verdict = {True: "ok", False: "MISS", None: "?"}[target["met"]]
            target_text = f"<={target['max_ratio']} {target['peer'][0]} {verdict}"
        print(
            f"{row['workload']:<20} {lib:<15} {_fmt(row['eager_s']):>10} "
            f"{_fmt(row['jit_s']):>10} {_fmt_ratio(row['ratio_vs_jax']):>7} "
            f"{_fmt_ratio(row['ratio_vs_numpy']):>8} {target_text:>14} "
            f"{_fmt(row['first_cold_s']):>10} {_fmt(row['first_warm_s']):>10} "
            f"{_fmt_ratio(row['first_cold_vs_jax']):>8} "
            f"{_fmt_ratio(row['first_warm_vs_jax']):>8}"
        )
        if row["error"]:
            print(f"    error: {row['error'].splitlines()[-1][:150]}")
    print(
        "\ntargets (cpu_llvm): 'j' = vs JAX jit, 'n' = vs numpy; first call: cold <= "
        f"{FIRST_CALL_TARGETS['cold']}x, warm <= {FIRST_CALL_TARGETS['warm']}x JAX's cold "
        "first call; '!' = output differs from numpy's (or JAX's)"
    )


def print_misses(rows: list[dict], imports: dict) -> None:
    """The issue targets that plax's cpu_llvm misses in this run."""
    misses = []
    for row in rows:
        if row["library"] != "plax:cpu_llvm":
            continue
        target = row.get("target")
        if target and target["met"] is False:
            ratio = row["ratio_vs_" + target["peer"]]
            misses.append(
                f"{row['workload']}: {ratio:.2f}x {target['peer']} (target <= "
                f"{target['max_ratio']}x)"
            )
        for kind, limit in FIRST_CALL_TARGETS.items():
            ratio = row[f"first_{kind}_vs_jax"]
            if ratio is not None and ratio > limit:
                misses.append(f"{row['workload']}: first call {kind} {ratio:.2f}x (<= {limit}x)")
        if row["error"] or row["checksum_ok"] is False:
            misses.append(f"{row['workload']}: {row['error'] or 'output differs'}"[:160])
    if "plax" in imports and "jax" in imports:
        ratio = imports["plax"]["import_s"] / imports["jax"]["import_s"]
        if ratio > IMPORT_TARGET:
            misses.append(f"import plax: {ratio:.2f}x import jax (target <= {IMPORT_TARGET}x)")
    if misses:
        print("\ncpu_llvm targets missed in this run:")
        for miss in misses:
            print("  " + miss)


def print_imports(imports: dict) -> None:
    if not imports:
        return
    print("\nimport time (median wall time of fresh processes, interpreter start-up included):")
    for module, times in imports.items():
        print(
            f"  python -c 'import {module}'  {_fmt(times['import_s']):>10}   "
            f"(python -c pass: {_fmt(times['python_s'])})"
        )
    if "plax" in imports and "jax" in imports:
        ratio = imports["plax"]["import_s"] / imports["jax"]["import_s"]
        print(f"  plax / jax: {ratio:.2f}x (target <= {IMPORT_TARGET}x)")


def _charts(rows: list[dict], path: str) -> None:
    """``path``: steady-state time over JAX's; ``<path>-first-call.png``: plax's first calls
    over JAX's."""
    from pngchart import bar_chart

    names = list(dict.fromkeys(r["workload"] for r in rows))
    libs = list(dict.fromkeys(r["library"] for r in rows))
    by_key = {(r["workload"], r["library"]): r for r in rows}

    def series(field, lib):
        return [by_key.get((name, lib), {}).get(field) for name in names]

    targets = [TARGETS[n][1] if TARGETS.get(n, ("",))[0] == "jax" else None for n in names]
    bar_chart(
        path,
        names,
        {lib: series("ratio_vs_jax", lib) for lib in libs},
        targets,
        title="time / jax jit time (log); red: target",
    )
    first = {}
    for lib in libs:
        if lib.startswith("plax:"):
            first[lib + " cold"] = series("first_cold_vs_jax", lib)
            first[lib + " warm"] = series("first_warm_vs_jax", lib)
    if any(v for values in first.values() for v in values):
        first_path = os.path.splitext(path)[0] + "-first-call.png"
        cold, warm = FIRST_CALL_TARGETS["cold"], FIRST_CALL_TARGETS["warm"]
        bar_chart(
            first_path,
            names,
            first,
            [cold] * len(names),
            title=f"first call / jax first call (log); red: cold target {cold} (warm: {warm})",
        )
        print(f"charts written to {path} and {first_path}")
    else:
        print(f"chart written to {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--first-call", help=argparse.SUPPRESS)
    parser.add_argument("--workloads", default="", help="comma-separated subset")
    parser.add_argument(
        "--backends",
        default="",
        help="comma-separated plax backends (default: every available one)",
    )
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument(
        "--jax-python",
        default=sys.executable,
        help="interpreter that has jax installed (default: this one)",
    )
    parser.add_argument("--no-jax", action="store_true")
    parser.add_argument(
        "--no-first-call",
        action="store_true",
        help="skip the fresh-process first-call measurements",
    )
    parser.add_argument(
        "--import-runs",
        type=int,
        default=7,
        help="fresh processes per import-time measurement (0: skip)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before a worker process is abandoned"
    )
    parser.add_argument("--json", help="write results as JSON")
    parser.add_argument("--png", help="draw a bar chart of the ratios vs JAX (no dependencies)")
    args = parser.parse_args(argv)

    names = [n for n in args.workloads.split(",") if n] or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    if args.worker:
        print(json.dumps(steady_worker(args.worker, names, args.budget)))
        return 0
    if args.first_call:
        print(json.dumps(first_call_worker(args.first_call, names[0])))
        return 0

    backends = [b for b in args.backends.split(",") if b] or _plax_backends()
    python_for = {f"plax:{b}": sys.executable for b in backends}
    python_for["numpy"] = sys.executable
    if not args.no_jax:
        python_for["jax"] = args.jax_python
    results = {}
    for lib, python in python_for.items():
        print(f"timing {lib} ...", file=sys.stderr)
        out = _child(
            python,
            ["--worker", lib, "--budget", str(args.budget), "--workloads", ",".join(names)],
            timeout=args.timeout,
        )
        if set(out) == {"error"}:  # the whole worker failed: say so on every workload
            out = {name: {"error": out["error"]} for name in names}
        results[lib] = out
    if not args.no_first_call:
        for lib, per_lib in first_calls(python_for, names, args.timeout).items():
            for name, row in per_lib.items():
                merged = results[lib].setdefault(name, {})
                if "error" in row and "error" not in merged:
                    merged["error"] = "first call: " + row.pop("error")
                merged.update(row)
    imports = import_times(python_for, args.import_runs) if args.import_runs > 0 else {}

    rows = build_rows(results, names)
    print_table(rows)
    print_imports(imports)
    print_misses(rows, imports)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "results": results,
                    "rows": rows,
                    "imports": imports,
                    "targets": TARGETS,
                    "first_call_targets": FIRST_CALL_TARGETS,
                    "import_target": IMPORT_TARGET,
                    "python": sys.version,
                    "machine": {
                        "platform": platform.platform(),
                        "cpus": os.cpu_count(),
                        "load_average": os.getloadavg(),
                    },
                },
                f,
                indent=2,
            )
    if args.png:
        _charts(rows, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
