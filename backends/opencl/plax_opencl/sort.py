"""``sort`` as a bitonic network over a permutation, then one gather.

Each row along the sorted dimension gets a permutation ``perm`` of ``P`` entries
(``P`` the next power of two of the row length ``n``). The network's
compare-exchange steps (``log2(P) * (log2(P) + 1) / 2`` launches, every row at
once) order the permutation by the keys -- the first ``num_keys`` operands,
lexicographically -- and then by the original index: ties keep their input order,
so the result is stable whatever ``is_stable`` says (it equals the reference's
stable sort), and entries ``>= n`` (padding) sort last. A final launch gathers
every operand through the permutation.

Keys compare as ``lax.sort`` orders them: floats by value with -0.0 equal to 0.0
and NaNs (of either sign) after everything and equal to each other; integers and
booleans by value. float16 keys are read with ``vload_half``, bfloat16 keys as
their upper 16 bits. Operands other than keys are moved as unsigned integers of
their width. One program per (key dtypes, operand widths) serves every shape: the
extents are kernel arguments. Empty operands and rows longer than 2**30 run as
host steps, and so do sorts whose permutation exceeds the device's largest buffer.
"""

from __future__ import annotations

import math

import numpy as np
from plax import dtypes
from plax.jaxpr import Literal

__all__ = ["sort_runner", "sort_source"]

_WIDTHS = {1: "uchar", 2: "ushort", 4: "uint", 8: "ulong"}
_INIT, _STEP, _GATHER = 0, 1, 2
MAX_ROW = 1 << 30

# dtype -> (pointer type, load expression of p[i], is float)
_KEY_LOADS = {
    np.dtype(np.bool_): ("uchar", "{p}[{i}]", False),
    np.dtype(np.int8): ("char", "{p}[{i}]", False),
    np.dtype(np.int16): ("short", "{p}[{i}]", False),
    np.dtype(np.int32): ("int", "{p}[{i}]", False),
    np.dtype(np.int64): ("long", "{p}[{i}]", False),
    np.dtype(np.uint8): ("uchar", "{p}[{i}]", False),
    np.dtype(np.uint16): ("ushort", "{p}[{i}]", False),
    np.dtype(np.uint32): ("uint", "{p}[{i}]", False),
    np.dtype(np.uint64): ("ulong", "{p}[{i}]", False),
    dtypes.float16: ("half", "vload_half({i}, {p})", True),
    dtypes.bfloat16: ("ushort", "as_float(((uint){p}[{i}]) << 16)", True),
    np.dtype(np.float32): ("float", "{p}[{i}]", True),
    np.dtype(np.float64): ("double", "{p}[{i}]", True),
}


def sort_source(key_dtypes: tuple, widths: tuple, fp64: bool) -> str:
    """The program for keys of ``key_dtypes`` and operands of byte widths ``widths``
    (the keys are the first operands)."""
    nops = len(widths)
    lines = ["#pragma OPENCL FP_CONTRACT OFF"]
    if fp64:
        lines.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
    key_params = "".join(f", __global const {_KEY_LOADS[dt][0]}* k{j}"
                         for j, dt in enumerate(key_dtypes))
    key_args = "".join(f", (__global const {_KEY_LOADS[dt][0]}*)in{j}"
                       for j, dt in enumerate(key_dtypes))
    # before(a, b): the element at row index a sorts strictly before the one at b.
    body = ["  if (a >= n) return 0;", "  if (b >= n) return 1;",
            "  const long ia = base + (long)a * inner, ib = base + (long)b * inner;"]
    for j, dt in enumerate(key_dtypes):
        _, load, is_float = _KEY_LOADS[dt]
        x, y = load.format(p=f"k{j}", i="ia"), load.format(p=f"k{j}", i="ib")
        ctype = "double" if dt == np.float64 else "float" if is_float else _KEY_LOADS[dt][0]
        body.append(f"  {{ const {ctype} x = {x}, y = {y};")
        if is_float:
            body.append("    if (x < y || (isnan(y) && !isnan(x))) return 1;")
            body.append("    if (y < x || (isnan(x) && !isnan(y))) return 0; }")
        else:
            body.append("    if (x < y) return 1;")
            body.append("    if (y < x) return 0; }")
    body.append("  return a < b;")
    lines.append(f"static int plax_before(uint a, uint b, long n, long base, long inner"
                 f"{key_params}) {{\n" + "\n".join(body) + "\n}")
    buffers = "".join(f", __global uchar* in{j}" for j in range(nops))
    buffers += "".join(f", __global uchar* out{j}" for j in range(nops))
    gathers = "\n".join(
        f"      ((__global {_WIDTHS[w]}*)out{j})[dst] = ((__global const {_WIDTHS[w]}*)in{j})[src];"
        for j, w in enumerate(widths))
    lines.append(f"""\
__kernel void plax_sort(int which, long n, long P, long inner, long total, long kk, long jj,
                        __global uint* perm{buffers}) {{
  for (long t = get_global_id(0); t < total; t += get_global_size(0)) {{
    if (which == {_INIT}) {{
      perm[t] = (uint)(t % P);
    }} else if (which == {_STEP}) {{
      const long half_p = P / 2;
      const long r = t / half_p;
      const long q = t - r * half_p;
      const long i = 2 * jj * (q / jj) + q % jj;
      __global uint* row = perm + r * P;
      const uint a = row[i], b = row[i + jj];
      const long base = (r / inner) * n * inner + r % inner;
      const int up = (i & kk) == 0;
      const int swap = up ? plax_before(b, a, n, base, inner{key_args})
                          : plax_before(a, b, n, base, inner{key_args});
      if (swap) {{ row[i] = b; row[i + jj] = a; }}
    }} else {{
      const long r = t / n;
      const long i = t - r * n;
      const long base = (r / inner) * n * inner + r % inner;
      const long src = base + (long)perm[r * P + i] * inner;
      const long dst = base + i * inner;
{gathers}
    }}
  }}
}}""")
    return "\n".join(lines) + "\n"


def _sort_kernel(state, key_dtypes: tuple, widths: tuple):
    cache = state.__dict__.setdefault("library_kernels", {})
    key = ("sort", key_dtypes, widths)
    kernel = cache.get(key)
    if kernel is None:
        fp64 = np.dtype(np.float64) in key_dtypes
        program = state.programs.program(sort_source(key_dtypes, widths, fp64))
        kernel = cache[key] = state.cl.Kernel(program, "plax_sort")
    return kernel


class _Sort:
    __slots__ = ("state", "kernel", "inputs", "outputs", "out_avals", "n", "p", "inner",
                 "rows", "stages")

    def __init__(self, state, step, kernel, shape, dimension):
        self.state = state
        self.kernel = kernel
        self.inputs = step.inputs
        self.outputs = step.outputs
        self.out_avals = step.out_avals
        self.n = shape[dimension]
        self.p = 1 << max(0, (self.n - 1).bit_length())
        self.inner = math.prod(shape[dimension + 1:])
        self.rows = math.prod(shape) // self.n
        stages = []
        kk = 2
        while kk <= self.p:
            j = kk // 2
            while j >= 1:
                stages.append((kk, j))
                j //= 2
            kk *= 2
        self.stages = stages

    def __call__(self, env: list) -> None:
        state = self.state
        ins = [env[s] for s in self.inputs]
        outs = [state.empty(aval.shape, aval.dtype) for aval in self.out_avals]
        perm = state.alloc(self.rows * self.p * 4)
        buffers = tuple(b.mem for b in ins) + tuple(b.mem for b in outs)
        i64 = np.int64
        n, p, inner = i64(self.n), i64(self.p), i64(self.inner)

        def launch(which, total, kk=1, j=1):
            gsize, lsize = state.geometry(total)
            return state.launch(self.kernel, (np.int32(which), n, p, inner, i64(total),
                                              i64(kk), i64(j), perm) + buffers, gsize, lsize)

        launch(_INIT, self.rows * self.p)
        for kk, j in self.stages:
            launch(_STEP, self.rows * self.p // 2, kk, j)
        event = launch(_GATHER, self.rows * self.n)
        for slot, out in zip(self.outputs, outs):
            out.event = event
            env[slot] = out


def sort_runner(state, step, in_avals):
    """The runner of a ``sort`` library step, or None (host step)."""
    if any(isinstance(x, Literal) for x in step.inputs):
        return None
    shape = in_avals[0].shape
    dimension = step.params["dimension"]
    num_keys = step.params["num_keys"]
    if math.prod(shape) == 0 or shape[dimension] > MAX_ROW:
        return None
    n = shape[dimension]
    if math.prod(shape) // n * (1 << max(0, (n - 1).bit_length())) * 4 > state.info.max_alloc:
        return None  # the permutation would not fit in one buffer
    key_dtypes = tuple(np.dtype(a.dtype) for a in in_avals[:num_keys])
    if any(dt not in _KEY_LOADS for dt in key_dtypes):
        return None
    widths = tuple(np.dtype(a.dtype).itemsize for a in in_avals)
    if any(w not in _WIDTHS for w in widths):
        return None
    kernel = _sort_kernel(state, key_dtypes, widths)
    return _Sort(state, step, kernel, shape, dimension)
