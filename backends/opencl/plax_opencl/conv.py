"""``conv_general_dilated`` as im2col + the tiled matrix product (``library``).

For each group ``g`` (a feature group or a batch group; at most one count exceeds 1)
the convolution is a matrix product ``cols[g] @ W[g]``:

* ``cols[g]`` is ``M x K``: a row per output position ``(n, o_0, ..., o_k)`` (``M`` =
  output batch times output spatial size), a column per ``(input feature, window
  position)`` in the memory order of the kernel's dimensions (``K``), each entry the
  input element under that window tap, or 0 in padding and in the holes of lhs
  dilation. The ``im2col`` kernel writes it.
* ``W[g]`` is the kernel read in place: the columns' order is the kernel's memory
  order, so ``K`` walks it with one stride, and the output features with another
  (kernel layouts where that fails, such as IOHW, fall back).
* The product ``[G, M, N]`` (``N`` output features per group) is the result when its
  layout is the output's (NHWC-like output, one group); otherwise the ``permute``
  kernel writes it in the output's layout.

Shapes, strides and dilations are kernel arguments (a parameter array), so one build
of the data-movement kernels serves every convolution, and they move elements as
unsigned integers of the dtype's width, so it serves every dtype too. The product
keeps ``dot_general``'s kernel and its dtype rules (float32/float64, and integers
with wrap-around); float16/bfloat16, a ``preferred_element_type`` other than the
input dtype, empty arrays, and convolutions whose im2col matrix exceeds the device's
largest buffer run as host steps.
"""

from __future__ import annotations

import math

import numpy as np
from plax.jaxpr import Literal
from plax.lowering.matmul import group_stride, row_major_strides

from plax_opencl import library

__all__ = ["conv_runner", "MOVE_SOURCE"]

_WIDTHS = {1: "uchar", 2: "ushort", 4: "uint", 8: "ulong"}
_IM2COL, _PERMUTE = 0, 1

# p: M, K, nsp, g_b (lhs batch offset per group), g_c (lhs feature offset per group),
# sB, sC, then per spatial dimension i: O, S, RD, LO, LD, DN, sX (7 values), then ndk
# (= 1 + nsp) pairs (size, kind) in the kernel's memory order: kind -1 is the input
# feature, i >= 0 spatial dimension i.
_IM2COL_BODY = """\
static void plax_im2col_{t}(long total, __global const long* p, __global const {t}* x,
                          __global {t}* cols) {{
  const long M = p[0], K = p[1];
  const int nsp = (int)p[2];
  const long MK = M * K;
  __global const long* sp = p + 7;
  __global const long* kd = p + 7 + 7 * nsp;
  for (long e = get_global_id(0); e < total; e += get_global_size(0)) {{
    const long g = e / MK;
    const long r = e - g * MK;
    const long m = r / K;
    long kk = r - m * K;
    long o[3] = {{0, 0, 0}};
    long t = m;
    for (int i = nsp - 1; i >= 0; i--) {{
      const long size = sp[7 * i];
      o[i] = t % size;
      t /= size;
    }}
    const long nb = t;
    long ci = 0;
    long w[3] = {{0, 0, 0}};
    for (int d = nsp; d >= 0; d--) {{
      const long size = kd[2 * d];
      const long kind = kd[2 * d + 1];
      const long v = kk % size;
      kk /= size;
      if (kind < 0) ci = v; else w[kind] = v;
    }}
    long addr = (g * p[3] + nb) * p[5] + (g * p[4] + ci) * p[6];
    int inside = 1;
    for (int i = 0; i < nsp; i++) {{
      __global const long* s = sp + 7 * i;
      const long q = o[i] * s[1] + w[i] * s[2] - s[3];
      if (q < 0 || q >= s[5] || q % s[4] != 0) inside = 0;
      else addr += (q / s[4]) * s[6];
    }}
    cols[e] = inside ? x[addr] : ({t})0;
  }}
}}
"""

# p: ndim, M, N, then per output axis, outermost first: (size, kind) with kind -2 the
# batch, -1 the feature, i >= 0 spatial dimension i; then the output spatial sizes.
_PERMUTE_BODY = """\
static void plax_permute_{t}(long total, __global const long* p, __global const {t}* c,
                           __global {t}* out) {{
  const int ndim = (int)p[0];
  const long M = p[1], N = p[2];
  __global const long* ax = p + 3;
  __global const long* osz = p + 3 + 2 * ndim;
  for (long e = get_global_id(0); e < total; e += get_global_size(0)) {{
    long t = e;
    long nb = 0, f = 0;
    long o[3] = {{0, 0, 0}};
    for (int a = ndim - 1; a >= 0; a--) {{
      const long size = ax[2 * a];
      const long kind = ax[2 * a + 1];
      const long v = t % size;
      t /= size;
      if (kind == -2) nb = v; else if (kind == -1) f = v; else o[kind] = v;
    }}
    long m = nb;
    for (int i = 0; i < ndim - 2; i++) m = m * osz[i] + o[i];
    const long g = f / N;
    out[e] = c[(g * M + m) * N + (f - g * N)];
  }}
}}
"""


def _move_source() -> str:
    parts = []
    cases = []
    for k, (size, t) in enumerate(sorted(_WIDTHS.items())):
        parts.append(_IM2COL_BODY.format(t=t))
        parts.append(_PERMUTE_BODY.format(t=t))
        cases.append(f"    case {2 * k}: plax_im2col_{t}(total, p, (__global const {t}*)src, "
                     f"(__global {t}*)dst); break;")
        cases.append(f"    case {2 * k + 1}: plax_permute_{t}(total, p, "
                     f"(__global const {t}*)src, (__global {t}*)dst); break;")
    parts.append("__kernel void plax_conv_move(int which, long total, __global const long* p,\n"
                 "                             __global const uchar* src, __global uchar* dst) {\n"
                 "  switch (which) {\n" + "\n".join(cases) + "\n  }\n}\n")
    return "\n".join(parts)


MOVE_SOURCE = _move_source()


def _which(kind: int, itemsize: int) -> np.int32:
    return np.int32(2 * sorted(_WIDTHS).index(itemsize) + kind)


def _move_kernel(state):
    """The data-movement entry point (one program, one code generation, every dtype)."""
    cache = state.__dict__.setdefault("library_kernels", {})
    kernel = cache.get("conv_move")
    if kernel is None:
        program = state.programs.program(MOVE_SOURCE)
        kernel = cache["conv_move"] = state.cl.Kernel(program, "plax_conv_move")
    return kernel


def _plan(lhs_shape, rhs_shape, out_shape, params):
    """The launch parameters, or None when the layout is not covered."""
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    nsp = len(lhs_shape) - 2
    if nsp > 3:
        return None
    fgc, bgc = params["feature_group_count"], params["batch_group_count"]
    groups = fgc * bgc
    out_batch = out_shape[out_spec[0]]
    out_spatial = [out_shape[out_spec[2 + i]] for i in range(nsp)]
    out_features = rhs_shape[rhs_spec[0]]
    group_in = rhs_shape[rhs_spec[1]]
    group_out = out_features // groups
    window = [rhs_shape[rhs_spec[2 + i]] for i in range(nsp)]
    m = out_batch * math.prod(out_spatial)
    k = group_in * math.prod(window)
    if 0 in (m, k, group_out):
        return None
    # The kernel: its non-output dimensions, in memory order, must be walked by one stride.
    rs = row_major_strides(rhs_shape)
    kdims = [a for a in range(len(rhs_shape)) if a != rhs_spec[0]]
    s_k = group_stride(rhs_shape, rs, kdims)
    if s_k is None:
        return None
    s_o = rs[rhs_spec[0]]
    kinds = {rhs_spec[1]: -1, **{rhs_spec[2 + i]: i for i in range(nsp)}}
    ls = row_major_strides(lhs_shape)
    im2col = [m, k, nsp, out_batch if bgc > 1 else 0, group_in if fgc > 1 else 0,
              ls[lhs_spec[0]], ls[lhs_spec[1]]]
    for i in range(nsp):
        size = lhs_shape[lhs_spec[2 + i]]
        lhs_dilation = params["lhs_dilation"][i]
        im2col += [out_spatial[i], params["window_strides"][i], params["rhs_dilation"][i],
                   params["padding"][i][0], lhs_dilation, (size - 1) * lhs_dilation + 1,
                   ls[lhs_spec[2 + i]]]
    for a in kdims:
        im2col += [rhs_shape[a], kinds[a]]
    # The product [G, M, N] is the output itself when the output is [N, spatial..., O].
    direct = groups == 1 and tuple(out_spec) == (0, len(out_shape) - 1) + tuple(
        range(1, len(out_shape) - 1))
    permute = None
    if not direct:
        kind_of_axis = {out_spec[0]: -2, out_spec[1]: -1,
                        **{out_spec[2 + i]: i for i in range(nsp)}}
        permute = [len(out_shape), m, group_out]
        for a in range(len(out_shape)):
            permute += [out_shape[a], kind_of_axis[a]]
        permute += out_spatial
    layout = (groups, m, group_out, k, (m * k, k, 1), (group_out * s_o, s_k, s_o))
    return im2col, permute, layout


class _Conv:
    __slots__ = ("state", "move", "matmul", "inputs", "outputs", "out_aval", "itemsize",
                 "cols_total", "im2col_params", "permute_params", "temp_shape", "mm_args",
                 "mm_gsize", "mm_lsize", "move_gsize", "move_lsize")

    def __init__(self, state, step, plan, dtype, matmul, tile, wg, cpu):
        im2col, permute, layout = plan
        groups, m, n, k, _, _ = layout
        self.state = state
        self.move = _move_kernel(state)
        self.matmul = matmul
        self.inputs = step.inputs
        self.outputs = step.outputs
        (self.out_aval,) = step.out_avals
        self.itemsize = np.dtype(dtype).itemsize
        self.cols_total = groups * m * k
        self.im2col_params = state.upload(np.asarray(im2col, np.int64))
        self.permute_params = (None if permute is None else
                               state.upload(np.asarray(permute, np.int64)))
        self.temp_shape = (groups, m, n)
        # The matmul runner's launch geometry and scalar arguments, reused.
        mm = library._Matmul(state, step, matmul, layout, tile, wg, cpu)
        self.mm_args, self.mm_gsize, self.mm_lsize = mm.args, mm.gsize, mm.lsize
        self.move_gsize, self.move_lsize = state.geometry(self.cols_total)

    def __call__(self, env: list) -> None:
        state = self.state
        lhs, rhs = (env[s] for s in self.inputs)
        dtype = self.out_aval.dtype
        cols = state.empty((self.cols_total,), dtype)
        out = state.empty(self.out_aval.shape, dtype)
        product = out if self.permute_params is None else state.empty(self.temp_shape, dtype)
        launch = state.launch
        launch(self.move, (_which(_IM2COL, self.itemsize), np.int64(self.cols_total),
                           self.im2col_params.mem, lhs.mem, cols.mem),
               self.move_gsize, self.move_lsize)
        event = launch(self.matmul, (cols.mem, rhs.mem, product.mem) + self.mm_args,
                       self.mm_gsize, self.mm_lsize)
        if self.permute_params is not None:
            total = out.size
            gsize, lsize = state.geometry(total)
            event = launch(self.move, (_which(_PERMUTE, self.itemsize), np.int64(total),
                                       self.permute_params.mem, product.mem, out.mem),
                           gsize, lsize)
        out.event = event
        (slot,) = self.outputs
        env[slot] = out


def conv_runner(state, step, in_avals):
    """The runner of a ``conv_general_dilated`` library step, or None (host step)."""
    if any(isinstance(x, Literal) for x in step.inputs):
        return None
    lhs_aval, rhs_aval = in_avals
    (out_aval,) = step.out_avals
    types = library._kernel_types(lhs_aval.dtype, rhs_aval.dtype, out_aval.dtype)
    if types is None or np.dtype(out_aval.dtype).itemsize not in _WIDTHS:
        return None
    if out_aval.size == 0 or lhs_aval.size == 0 or rhs_aval.size == 0:
        return None
    plan = _plan(lhs_aval.shape, rhs_aval.shape, out_aval.shape, step.params)
    if plan is None:
        return None
    groups, m, n, k, _, _ = plan[2]
    itemsize = np.dtype(out_aval.dtype).itemsize
    if max(groups * m * k, groups * m * n) * itemsize > state.info.max_alloc:
        return None  # the im2col matrix would not fit in one buffer: the host step does
    matmul, tile, wg, cpu = library.matmul_kernel_for(state, types)
    return _Conv(state, step, plan, out_aval.dtype, matmul, tile, wg, cpu)
