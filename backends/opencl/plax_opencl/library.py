"""Library steps: primitives the OpenCL backend runs with its own kernels.

``runner(state, step)`` returns the callable for a ``LibraryStep``, or None when
the step's layout or dtypes are not covered (it then runs as a host step).
``conv_general_dilated`` (``conv``: im2col and the matrix product below) and ``sort``
(``sort``: a bitonic network) have modules of their own.

``dot_general`` whose operands are plain (batched) matrices -- each of the batch,
free and contracting dimension groups of an operand is addressed with a single
stride, which covers ``A @ B``, ``A.T @ B``, ``A @ B.T`` and their batched forms
-- runs as a tiled matrix product: each work-group computes a TS x TS tile of
the result from TK-wide slices of both operands staged in local memory, each
work-item a 4 x 4 block of it (on CPU devices, where local memory and barriers
are emulated, a variant without them: a 4 x 16 block per work-item, the 16
columns in a loop the compiler vectorises). Operands are read in place through their strides
(no transpose copies). Floats accumulate in their own type (float16/bfloat16 are
left to the host step, whose float32 accumulation the kernel would have to
copy); integers accumulate with wrap-around in 32 or 64 bits, which equals the
result type's own wrap-around.
"""

from __future__ import annotations


import numpy as np
from plax.jaxpr import Literal
from plax.lowering.matmul import matmul_layout

__all__ = ["PRIMITIVES", "runner", "matmul_layout", "matmul_kernel_for"]

PRIMITIVES = frozenset({"dot_general", "conv_general_dilated", "sort"})

_FLOATS = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_INTS = {
    np.dtype(np.int8): "char", np.dtype(np.int16): "short", np.dtype(np.int32): "int",
    np.dtype(np.int64): "long", np.dtype(np.uint8): "uchar", np.dtype(np.uint16): "ushort",
    np.dtype(np.uint32): "uint", np.dtype(np.uint64): "ulong",
}

_MATMUL_SOURCE = """\
#pragma OPENCL FP_CONTRACT ON
{pragmas}
#define TS {ts}
#define TK {tk}
#define WG {wg}
typedef {ta} TA;
typedef {tb} TB;
typedef {to} TO;
typedef {acc} ACC;

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void plax_matmul(__global const TA* restrict A, __global const TB* restrict B,
                 __global TO* restrict C, long M, long N, long K,
                 long sab, long sam, long sak, long sbb, long sbk, long sbn) {{
  __local ACC As[TK][TS + 1];
  __local ACC Bs[TK][TS + 1];
  const int tx = get_local_id(0);
  const int ty = get_local_id(1);
  const int tid = ty * WG + tx;
  const long n0 = (long)get_group_id(0) * TS;
  const long m0 = (long)get_group_id(1) * TS;
  const long b = get_global_id(2);
  A += b * sab;
  B += b * sbb;
  C += b * M * N;
  ACC acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      acc[i][j] = 0;
  for (long k0 = 0; k0 < K; k0 += TK) {{
    for (int l = tid; l < TS * TK; l += WG * WG) {{
      int kk = l % TK;
      int mm = l / TK;
      long m = m0 + mm;
      long k = k0 + kk;
      As[kk][mm] = (m < M && k < K) ? (ACC)A[m * sam + k * sak] : (ACC)0;
    }}
    for (int l = tid; l < TS * TK; l += WG * WG) {{
      int nn = l % TS;
      int kk = l / TS;
      long n = n0 + nn;
      long k = k0 + kk;
      Bs[kk][nn] = (n < N && k < K) ? (ACC)B[k * sbk + n * sbn] : (ACC)0;
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < TK; kk++) {{
      ACC a[4];
      ACC c[4];
      for (int i = 0; i < 4; i++) a[i] = As[kk][ty + WG * i];
      for (int j = 0; j < 4; j++) c[j] = Bs[kk][tx + WG * j];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
          acc[i][j] += a[i] * c[j];
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
  }}
  for (int i = 0; i < 4; i++) {{
    long m = m0 + ty + WG * i;
    for (int j = 0; j < 4; j++) {{
      long n = n0 + tx + WG * j;
      if (m < M && n < N) C[m * N + n] = (TO)acc[i][j];
    }}
  }}
}}
"""


# CPU devices: no local memory or barriers (which CPU drivers emulate at a cost): each
# work-item computes a 4 x 16 block of C with the 16 columns in its innermost loop,
# which the compiler vectorises (B's row segment read contiguously when sbn is 1).
_CPU_MATMUL_SOURCE = """\
#pragma OPENCL FP_CONTRACT ON
{pragmas}
typedef {ta} TA;
typedef {tb} TB;
typedef {to} TO;
typedef {acc} ACC;

__kernel void plax_matmul(__global const TA* restrict A, __global const TB* restrict B,
                          __global TO* restrict C, long M, long N, long K,
                          long sab, long sam, long sak, long sbb, long sbk, long sbn) {{
  // Consecutive work-items share a strip of B (rows of A change faster).
  const long m0 = get_global_id(0) * 4;
  const long n0 = get_global_id(1) * 16;
  const long b = get_global_id(2);
  if (n0 >= N || m0 >= M) return;
  A += b * sab;
  B += b * sbb;
  C += b * M * N;
  long rows[4];
  for (int i = 0; i < 4; i++) rows[i] = min(m0 + i, M - 1) * sam;
  ACC acc[4][16];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 16; j++)
      acc[i][j] = 0;
  if (n0 + 16 <= N) {{
    for (long k = 0; k < K; k++) {{
      ACC bk[16];
      for (int j = 0; j < 16; j++) bk[j] = (ACC)B[k * sbk + (n0 + j) * sbn];
      for (int i = 0; i < 4; i++) {{
        const ACC a = (ACC)A[rows[i] + k * sak];
        for (int j = 0; j < 16; j++) acc[i][j] += a * bk[j];
      }}
    }}
  }} else {{
    for (long k = 0; k < K; k++) {{
      for (int i = 0; i < 4; i++) {{
        const ACC a = (ACC)A[rows[i] + k * sak];
        for (int j = 0; j < 16 && n0 + j < N; j++)
          acc[i][j] += a * (ACC)B[k * sbk + (n0 + j) * sbn];
      }}
    }}
  }}
  for (int i = 0; i < 4 && m0 + i < M; i++)
    for (int j = 0; j < 16 && n0 + j < N; j++)
      C[(m0 + i) * N + n0 + j] = (TO)acc[i][j];
}}
"""


def _kernel_types(lhs, rhs, out):
    """(TA, TB, TO, ACC) C types, or None when the kernel does not cover the dtypes."""
    if lhs in _FLOATS and lhs == rhs == out:
        return _FLOATS[lhs], _FLOATS[lhs], _FLOATS[lhs], _FLOATS[lhs]
    if lhs in _INTS and rhs in _INTS and out in _INTS and lhs == rhs == out:
        acc = "ulong" if out.itemsize == 8 else "uint"
        return _INTS[lhs], _INTS[rhs], _INTS[out], acc
    return None


class _Matmul:
    __slots__ = ("state", "kernel", "inputs", "outputs", "out_aval", "args", "gsize", "lsize",
                 "empty")

    def __init__(self, state, step, kernel, layout, tile: int, wg: int, cpu: bool = False):
        batch, m, n, k, (sab, sam, sak), (sbb, sbk, sbn) = layout
        self.state = state
        self.kernel = kernel
        self.inputs = step.inputs
        self.outputs = step.outputs
        (self.out_aval,) = step.out_avals
        self.empty = self.out_aval.size == 0
        i64 = np.int64
        self.args = tuple(i64(v) for v in (m, n, k, sab, sam, sak, sbb, sbk, sbn))
        if cpu:
            self.gsize = (-(-m // 4), -(-n // 16), batch)
            self.lsize = (1, 1, 1)
        else:
            self.gsize = (-(-n // tile) * wg, -(-m // tile) * wg, batch)
            self.lsize = (wg, wg, 1)

    def __call__(self, env: list) -> None:
        state = self.state
        out = state.empty(self.out_aval.shape, self.out_aval.dtype)
        (slot,) = self.outputs
        env[slot] = out
        if self.empty:
            return
        lhs, rhs = (env[s] for s in self.inputs)
        if lhs.mem is None or rhs.mem is None:
            # K == 0: the product of empty contractions is zero.
            zero = np.zeros(self.out_aval.shape, self.out_aval.dtype)
            env[slot] = state.upload(zero)
            return
        args = (lhs.mem, rhs.mem, out.mem) + self.args
        out.event = state.launch(self.kernel, args, self.gsize, self.lsize)


def _matmul_kernel(state, types, tile: int, wg: int, cpu: bool):
    cache = state.__dict__.setdefault("library_kernels", {})
    key = ("matmul", types, tile, cpu)
    kernel = cache.get(key)
    if kernel is None:
        ta, tb, to, acc = types
        pragmas = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable" if "double" in types else ""
        template = _CPU_MATMUL_SOURCE if cpu else _MATMUL_SOURCE
        source = template.format(pragmas=pragmas, ts=tile, tk=16, wg=wg, ta=ta, tb=tb, to=to,
                                 acc=acc)
        program = state.programs.program(source)
        kernel = cache[key] = state.cl.Kernel(program, "plax_matmul")
    return kernel


def matmul_kernel_for(state, types):
    """(kernel, tile, work-group side, cpu) of the matrix product for these C types."""
    wg = 16 if state.info.kind == "gpu" else 8
    while wg * wg > state.info.max_work_group_size and wg > 1:
        wg //= 2
    tile = 4 * wg
    cpu = state.info.kind == "cpu"
    return _matmul_kernel(state, types, tile, wg, cpu), tile, wg, cpu


def _dot_general(state, step, in_avals):
    if any(isinstance(x, Literal) for x in step.inputs):
        return None
    lhs_aval, rhs_aval = in_avals
    (out_aval,) = step.out_avals
    types = _kernel_types(lhs_aval.dtype, rhs_aval.dtype, out_aval.dtype)
    if types is None:
        return None
    layout = matmul_layout(lhs_aval.shape, rhs_aval.shape, step.params["dimension_numbers"])
    if layout is None:
        return None
    kernel, tile, wg, cpu = matmul_kernel_for(state, types)
    return _Matmul(state, step, kernel, layout, tile, wg, cpu)


def _conv_general_dilated(state, step, in_avals):
    from plax_opencl.conv import conv_runner  # conv builds on this module

    return conv_runner(state, step, in_avals)


def _sort(state, step, in_avals):
    from plax_opencl.sort import sort_runner

    return sort_runner(state, step, in_avals)


_RUNNERS = {"dot_general": _dot_general, "conv_general_dilated": _conv_general_dilated,
            "sort": _sort}


def runner(state, step, in_avals):
    """The runner of a library step (``in_avals``: its operands' avals), or None."""
    make = _RUNNERS.get(step.primitive.name)
    if make is None or any(a is None for a in in_avals):
        return None
    return make(state, step, in_avals)
