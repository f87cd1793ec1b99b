"""The GEMM-based convolutions of ``conv.py``: im2col, shifted GEMMs, and their tiles.

Everything here works in the canonical layouts (``Geometry``): lhs [N, C, spatial...],
rhs [O, I, window...], out [N / batch groups, O, out spatial...], reached with
transposed views of the operands and the output, so no layout costs a copy of its
own. Feature and batch groups are independent convolutions on views.

* ``GemmPlan`` (im2col). The output is cut into tiles (a block of images times a
  block of rows of the first spatial dimension; where the window is huge also a block
  of input channels, whose partial products are summed), sized so that a tile's
  packed patch matrix stays under ``TILE_ELEMENTS`` whatever the operand sizes. For
  each tile the padded, lhs-dilated input region is written into a zeroed scratch
  buffer (skipped when the tile can read the operand itself: no positive padding, no
  lhs dilation), its windows are packed by one numpy strided copy, and numpy's matmul
  (OpenBLAS) multiplies them with the kernel matrix, straight into the output when
  its layout allows. The packing order makes the copy move contiguous runs: along
  output columns (NCHW), along window columns (weight gradients: a small output, a
  window as large as the image) or along channels (NHWC). A 1x1 convolution reads
  the operand as the matrix, without packing. Packing with numpy views measured
  faster than a fused LLVM im2col kernel (0.38 ms against 1.4 ms per 64x56x56 image,
  3x3 window): the copy is memory-bound and numpy moves whole contiguous rows.
* ``ShiftPlan`` (kn2row) for unit window strides and enough channels: one GEMM per
  window tap on a shifted view of the padded input, no patch matrix at all.

Tiles run on a small thread pool, each GEMM on single-threaded BLAS (see "Threads").
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from plax.lax.convolution import dilate_size, spatial_windows, window_output_size

from plax_cpu_llvm import blas

__all__ = [
    "PARALLEL_FLOPS",
    "SHIFT_MAX_WASTE",
    "SHIFT_MIN_CHANNELS",
    "TILE_COST",
    "TILE_ELEMENTS",
    "GemmPlan",
    "Geometry",
    "ShiftPlan",
    "shift_applies",
]

# The packed patch matrix of one tile holds at most this many elements (2 MiB of
# float32): BLAS ran fastest on tiles of this size (the patches stay in cache).
TILE_ELEMENTS = 1 << 19
# What one more tile costs (Python work, one more BLAS call), in elements moved.
TILE_COST = 1 << 16
# Shifted GEMMs need this many input channels per group (the contraction of each
# per-tap GEMM), and at most this much extra work on the padded grid. Measured with
# 3x3 windows, batch 8, one thread: 64 channels at 56x56 take 29 ms shifted against
# 33 ms im2col, 128 at 28x28 25 against 33; 16 channels 10 against 8.5; 256 at 14x14
# (a grid 16/14 as wide) is even, 512 at 7x7 (9/7) twice as slow shifted.
SHIFT_MIN_CHANNELS = 32
SHIFT_MAX_WASTE = 1.1


# ----------------------------------------------------------------------------
# Geometry in the canonical layouts: lhs [N, C, spatial...], rhs [O, I, window...],
# out [N / batch groups, O, out spatial...].


@dataclass(frozen=True)
class Geometry:
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple
    batch: int
    features: int
    out_features: int
    group_in: int
    group_out: int
    out_batch: int
    feature_groups: int
    batch_groups: int
    in_sizes: tuple
    kernel: tuple
    out_sizes: tuple
    strides: tuple
    pads: tuple
    lhs_dilation: tuple
    rhs_dilation: tuple

    @classmethod
    def of(cls, lhs_shape, rhs_shape, params) -> Geometry:
        lhs_spec, rhs_spec, out_spec = (tuple(s) for s in params["dimension_numbers"])
        fgc = params["feature_group_count"]
        bgc = params["batch_group_count"]
        in_sizes = tuple(lhs_shape[a] for a in lhs_spec[2:])
        kernel = tuple(rhs_shape[a] for a in rhs_spec[2:])
        out_sizes = []
        for size, k, (lo, hi), s, ld, rd in zip(in_sizes, kernel, params["padding"],
                                                params["window_strides"],
                                                params["lhs_dilation"], params["rhs_dilation"]):
            padded = dilate_size(size, ld) + lo + hi
            out_sizes.append(window_output_size(padded, dilate_size(k, rd), s))
        out_features = rhs_shape[rhs_spec[0]]
        return cls(
            lhs_spec=lhs_spec,
            rhs_spec=rhs_spec,
            out_spec=out_spec,
            batch=lhs_shape[lhs_spec[0]],
            features=lhs_shape[lhs_spec[1]],
            out_features=out_features,
            group_in=rhs_shape[rhs_spec[1]],
            group_out=out_features // (fgc * bgc),
            out_batch=lhs_shape[lhs_spec[0]] // bgc,
            feature_groups=fgc,
            batch_groups=bgc,
            in_sizes=in_sizes,
            kernel=kernel,
            out_sizes=tuple(out_sizes),
            strides=tuple(params["window_strides"]),
            pads=tuple(tuple(p) for p in params["padding"]),
            lhs_dilation=tuple(params["lhs_dilation"]),
            rhs_dilation=tuple(params["rhs_dilation"]),
        )

    @property
    def nsp(self) -> int:
        return len(self.in_sizes)

    @property
    def groups(self) -> int:
        return self.feature_groups * self.batch_groups

    @property
    def taps(self) -> int:
        return math.prod(self.kernel)

    @property
    def empty(self) -> bool:
        sizes = (self.out_batch, self.group_out, self.group_in) + self.in_sizes + self.out_sizes
        return 0 in sizes

    def source_region(self, d: int, first: int, last: int) -> tuple[int, int]:
        """The [start, stop) range of padded, dilated coordinates of spatial dimension
        ``d`` that output positions ``first`` to ``last - 1`` read."""
        start = first * self.strides[d]
        stop = (last - 1) * self.strides[d] + (self.kernel[d] - 1) * self.rhs_dilation[d] + 1
        return start, stop

    def source_indices(self, d: int, start: int, stop: int) -> tuple[int, int, int]:
        """Which lhs indices land in padded coordinates [start, stop) of dimension ``d``:
        (first index, count, offset of the first one from ``start``)."""
        lo = self.pads[d][0]
        ld = self.lhs_dilation[d]
        first = max(0, _ceil_div(start - lo, ld))
        last = min(self.in_sizes[d], _ceil_div(stop - lo, ld))
        return first, max(0, last - first), lo + first * ld - start


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ----------------------------------------------------------------------------
# im2col + GEMM.

# Packing orders: which axis the patch copy runs along (innermost in the patch matrix).
#   "cols":     patches [C*window, images*out]  (kernel matrix on the left)
#   "taps":     patches [images*out, C*window]  (runs along the window's last axis)
#   "channels": patches [images*out, window*C]  (runs along channels)
_ORDERS = ("cols", "taps", "channels")


class TiledPlan:
    """What the GEMM-based plans share: operands in the canonical layouts, one
    independent convolution per group, and tiles run by ``_run_tiles``."""

    def __init__(self, geo: Geometry, lhs, compute, out_aval):
        self.geo = geo
        self.compute = np.dtype(compute)
        self.out_aval = out_aval
        x = np.transpose(lhs, geo.lhs_spec)
        self.channels_last = geo.nsp > 0 and abs(x.strides[1]) < abs(x.strides[-1])

    def __call__(self, lhs, rhs):
        geo = self.geo
        compute = self.compute
        out = np.empty(self.out_aval.shape, compute)
        self.run_into(np.transpose(lhs.astype(compute, copy=False), geo.lhs_spec),
                      np.transpose(rhs.astype(compute, copy=False), geo.rhs_spec),
                      np.transpose(out, geo.out_spec))
        if self.out_aval.dtype != compute:
            return [out.astype(self.out_aval.dtype)]
        return [out]

    def run_into(self, x, w, oc) -> None:
        """The convolution of canonical views ``x`` and ``w`` (compute dtype) written into
        the canonical view ``oc`` of an output."""
        geo = self.geo
        w = self._weights(w)
        og = geo.group_out
        groups = []
        for g in range(geo.groups):
            if geo.batch_groups > 1:
                xg = x[g * geo.out_batch:(g + 1) * geo.out_batch]
            else:
                xg = x[:, g * geo.group_in:(g + 1) * geo.group_in]
            groups.append((xg, g * og, oc[:, g * og:(g + 1) * og]))

        def work(tile):
            g, n0, n1, r0, r1 = tile
            xg, first, og_view = groups[g]
            self._tile(xg, w, first, og_view, n0, n1, r0, r1)

        _run_tiles(work, self.tiles, self.parallel)

    def _threads_wanted(self, flops: int) -> int:
        """Decides ``parallel``; returns how many tiles per group keep every thread busy
        (they pull tiles in turn, so a few each absorb uneven progress)."""
        threads = _thread_count()
        self.parallel = flops >= PARALLEL_FLOPS and threads > 1
        return _ceil_div(2 * threads, self.geo.groups) if self.parallel else 1

    def _free_block(self, per_row: int, rows_total: int, wanted: int,
                    max_images: int | None = None) -> tuple[int, int]:
        """(images, rows) per tile when one output row of one image takes ``per_row``
        elements of scratch, split further until there are ``wanted`` tiles if possible."""
        batch = self.geo.out_batch
        rows = max(1, min(rows_total, TILE_ELEMENTS // per_row))
        images = TILE_ELEMENTS // (per_row * rows_total) if rows == rows_total else 1
        images = max(1, min(images, batch, max_images or batch))
        while images > 1 and _ceil_div(batch, images) < wanted:
            images = _ceil_div(images, 2)
        if images == 1 and batch * _ceil_div(rows_total, rows) < wanted:
            rows = max(1, min(rows, _ceil_div(rows_total * batch, wanted)))
        self.image_block = _balanced(batch, images)
        self.row_block = _balanced(rows_total, rows)
        return images, rows

    def _tile_list(self, rows_total: int) -> list:
        geo = self.geo
        return [
            (g, n0, min(n0 + self.image_block, geo.out_batch), r0,
             min(r0 + self.row_block, rows_total))
            for g in range(geo.groups)
            for n0 in range(0, geo.out_batch, self.image_block)
            for r0 in range(0, rows_total, self.row_block)
        ]

    def _source(self, x, n0, n1, c0, c1, spans, extra_rows: int = 0):
        """The padded, dilated input region ``spans`` (one (start, stop) per spatial
        dimension, in padded coordinates) of images [n0, n1) and channels [c0, c1), as
        [images, channels, region...]: a view of ``x`` when nothing needs padding or
        dilating, else a zeroed scratch copy in the operand's memory order, with
        ``extra_rows`` more zero rows at the end of the first spatial dimension."""
        geo = self.geo
        regions, picks, places, direct = [], [], [], extra_rows == 0
        for d, (start, stop) in enumerate(spans):
            index, count, offset = geo.source_indices(d, start, stop)
            ld = geo.lhs_dilation[d]
            regions.append(stop - start + (extra_rows if d == 0 else 0))
            picks.append(slice(index, index + count))
            places.append(slice(offset, offset + (count - 1) * ld + 1 if count else offset, ld))
            direct = direct and ld == 1 and offset == 0 and count == stop - start
        part = x[(slice(n0, n1), slice(c0, c1)) + tuple(picks)]
        if direct:
            return part
        nb, cb = n1 - n0, c1 - c0
        size = nb * cb * math.prod(regions)
        if self.channels_last:
            buffer = _scratch("source", size, self.compute).reshape((nb,) + tuple(regions) + (cb,))
            buffer = np.moveaxis(buffer, -1, 1)
        else:
            buffer = _scratch("source", size, self.compute).reshape((nb, cb) + tuple(regions))
        buffer[...] = 0
        if part.size:
            buffer[(slice(None), slice(None)) + tuple(places)] = part
        return buffer


class GemmPlan(TiledPlan):
    """im2col: tiles, packing order and views for one (shapes, strides) of the operands."""

    def __init__(self, geo: Geometry, lhs, compute, out_aval):
        super().__init__(geo, lhs, compute, out_aval)
        self.order = self._pick_order(np.transpose(lhs, geo.lhs_spec))
        self._tiles()

    # -- decisions --------------------------------------------------------------------
    def _pick_order(self, x) -> str:
        """The order whose patch copy moves the longest runs: numpy's copy loop pays a
        fixed cost per run, so run length matters more than whether a run is
        contiguous (stride-2 output columns beat 3-element window rows: 12.5 against
        19 ms for a 64->128 channel, 56x56 stride-2 convolution). Channels count only
        when contiguous (channels-last)."""
        geo = self.geo
        item = x.itemsize
        if geo.nsp == 0:
            unit = x.strides[1] == item
            return "channels" if unit or x.strides[0] != item else "cols"
        runs = {
            "cols": geo.out_sizes[-1],
            "taps": geo.kernel[-1],
            "channels": geo.group_in if self.channels_last else 0,
        }
        return max(_ORDERS, key=runs.get)  # ties keep the first: "cols" writes NCHW directly

    def _tiles(self) -> None:
        """Blocks of images, output rows and input channels. A tile's patch matrix holds
        at most ``TILE_ELEMENTS``; among the channel block sizes that allow, the one
        moving the least memory wins: every tile of output positions reads the kernel
        matrix again, and every extra channel block adds a pass of partial sums (so
        NCHW forward convolutions split rows and images, weight gradients channels)."""
        geo = self.geo
        rows_total = geo.out_sizes[0] if geo.nsp else 1
        row = math.prod(geo.out_sizes[1:]) if geo.nsp else 1  # positions per output row
        free_total = geo.out_batch * rows_total * row
        wanted = self._threads_wanted(
            2 * geo.groups * free_total * geo.group_in * geo.taps * geo.group_out
        )
        best = None
        channels = geo.group_in
        while True:
            cb = _balanced(geo.group_in, channels)
            images, rows = self._free_block(cb * geo.taps * row, rows_total, wanted)
            free_tiles = _ceil_div(geo.out_batch, images) * _ceil_div(rows_total, rows)
            channel_tiles = _ceil_div(geo.group_in, cb)
            cost = free_tiles * geo.group_out * geo.group_in * geo.taps
            if channel_tiles > 1:
                cost += 2 * channel_tiles * geo.group_out * free_total
            cost += free_tiles * channel_tiles * TILE_COST
            fits = cb == 1 or cb * geo.taps * row <= TILE_ELEMENTS  # one row at least
            if fits and (best is None or cost < best[0]):
                best = (cost, cb)
            if cb == 1:
                break
            channels = _ceil_div(cb, 2)
        _, cb = best
        self.channel_block = cb
        self._free_block(cb * geo.taps * row, rows_total, wanted)
        self.tiles = self._tile_list(rows_total)

    # -- running ---------------------------------------------------------------------
    def _weights(self, w):
        if self.order == "channels":
            w = np.moveaxis(w, 1, -1)  # [O, window..., I]
        return np.ascontiguousarray(w)

    def _tile(self, x, w, first, oc, n0, n1, r0, r1) -> None:
        geo = self.geo
        w = w[first:first + geo.group_out]
        cols_first = self.order == "cols"
        out_tile = oc[n0:n1, :, r0:r1] if geo.nsp else oc[n0:n1]
        # The tile's output as the GEMM result: [O, images*out] or [images*out, O].
        if cols_first:
            out_view = np.moveaxis(out_tile, 1, 0)
        else:
            out_view = np.moveaxis(out_tile, 1, -1)
        split = 1 if cols_first else out_view.ndim - 1
        blocks = range(0, geo.group_in, self.channel_block)
        target = _matrix(out_view, split) if len(blocks) == 1 else None
        if target is not None and not _blas_output(target):
            target = None
        total = None
        for c0 in blocks:
            c1 = min(c0 + self.channel_block, geo.group_in)
            patches = self._pack(x, n0, n1, r0, r1, c0, c1)
            kernel = self._kernel_matrix(w, c0, c1)
            if cols_first:
                a, b = kernel, patches
            else:
                a, b = patches, kernel.T
            if target is not None:
                np.matmul(a, b, out=target)
            elif total is None:
                total = np.matmul(a, b)
            else:
                total += np.matmul(a, b)
        if target is None:
            out_view[...] = total.reshape(out_view.shape)

    def _kernel_matrix(self, w, c0, c1):
        """The weights of channels [c0, c1) as [O, contraction], in the packing order."""
        og = w.shape[0]
        if self.order == "channels":
            block = w[..., c0:c1]
        else:
            block = w[:, c0:c1]
        matrix = _matrix(block, 1)
        if matrix is None:
            matrix = np.ascontiguousarray(block).reshape(og, -1)
        return matrix

    def _pack(self, x, n0, n1, r0, r1, c0, c1):
        """The patch matrix of one tile (a view of the operand where no copy is needed)."""
        geo = self.geo
        spans = [geo.source_region(d, r0, r1) if d == 0 else
                 geo.source_region(d, 0, geo.out_sizes[d]) for d in range(geo.nsp)]
        src = self._source(x, n0, n1, c0, c1, spans)
        nsp = geo.nsp
        windows = spatial_windows(src, geo.kernel, geo.strides, geo.rhs_dilation, 2)
        out_axes = tuple(range(2, 2 + nsp))
        win_axes = tuple(range(2 + nsp, 2 + 2 * nsp))
        if self.order == "cols":
            arranged = windows.transpose((1,) + win_axes + (0,) + out_axes)
        elif self.order == "taps":
            arranged = windows.transpose((0,) + out_axes + (1,) + win_axes)
        else:
            arranged = windows.transpose((0,) + out_axes + win_axes + (1,))
        split = 1 + nsp  # rows: [C, window...] or [images, out...]
        matrix = _matrix(arranged, split)
        if matrix is not None and _blas_input(matrix):
            return matrix
        rows = math.prod(arranged.shape[:split])
        buffer = _scratch("patches", rows * math.prod(arranged.shape[split:]), self.compute)
        buffer.reshape(arranged.shape)[...] = arranged
        return buffer.reshape(rows, -1)


class ShiftPlan(TiledPlan):
    """Shifted GEMMs (kn2row) for unit window strides: no patch matrix at all.

    Flatten the padded input of one image over its spatial dimensions; then window
    tap k of every output position is the same flat array moved by one offset, and
    the output is the sum over taps of ``W[:, :, k] @ shifted_k``: one GEMM per tap
    straight on a view of the padded input. Output positions are computed on the
    padded grid (rows as wide as the padded input), whose extra columns are dropped
    when the sum is copied out. Chosen when there are enough input channels for
    per-tap GEMMs to run at full speed and the padded grid is barely wider than the
    output; it packs 1/taps as much as im2col."""

    def __init__(self, geo: Geometry, lhs, compute, out_aval):
        super().__init__(geo, lhs, compute, out_aval)
        self.extents = _grid_extents(geo)
        inner = math.prod(self.extents[1:])
        strides = [math.prod(self.extents[d + 1:]) for d in range(geo.nsp)]
        self.offsets = [
            sum(k * rd * st for k, rd, st in zip(tap, geo.rhs_dilation, strides))
            for tap in np.ndindex(*geo.kernel)
        ]
        rows_total = geo.out_sizes[0]
        positions = geo.out_batch * rows_total * inner
        wanted = self._threads_wanted(
            2 * geo.groups * positions * geo.group_in * geo.taps * geo.group_out
        )
        # Scratch per output row: the input rows (channels) and two sums (out features).
        per_row = max(geo.group_in, 2 * geo.group_out) * inner
        self._free_block(per_row, rows_total, wanted, max_images=1)
        self.tiles = self._tile_list(rows_total)

    def _weights(self, w):
        o, i = w.shape[:2]
        return np.ascontiguousarray(w.reshape(o, i, -1).transpose(2, 0, 1))  # [taps, O, I]

    def _tile(self, x, w, first, oc, n0, n1, r0, r1) -> None:
        geo = self.geo
        og, cg = geo.group_out, geo.group_in
        rows = r1 - r0
        spans = [geo.source_region(0, r0, r1)] + [(0, e) for e in self.extents[1:]]
        # One zero row more, so the last tap's shifted view stays inside the buffer.
        src = self._source(x, n0, n1, 0, cg, spans, extra_rows=1)[0]
        positions = rows * math.prod(self.extents[1:])
        valid = tuple(slice(0, q) for q in geo.out_sizes[1:])
        weights = w[:, first:first + og]
        acc = _scratch("acc", positions * og, self.compute)
        tmp = _scratch("tmp", positions * og, self.compute)
        if self.channels_last:
            flat = np.moveaxis(src, 0, -1).reshape(-1, cg)  # [grid, C]: the buffer itself
            acc = acc.reshape(positions, og)
            tmp = tmp.reshape(positions, og)
            for k, offset in enumerate(self.offsets):
                np.matmul(flat[offset:offset + positions], weights[k].T, out=tmp if k else acc)
                if k:
                    acc += tmp
            grid = acc.reshape((rows,) + tuple(self.extents[1:]) + (og,))
            target = np.moveaxis(oc[n0, :, r0:r1], 0, -1)
            target[...] = grid[(slice(None),) + valid]
        else:
            flat = src.reshape(cg, -1)
            acc = acc.reshape(og, positions)
            tmp = tmp.reshape(og, positions)
            for k, offset in enumerate(self.offsets):
                np.matmul(weights[k], flat[:, offset:offset + positions], out=tmp if k else acc)
                if k:
                    acc += tmp
            grid = acc.reshape((og, rows) + tuple(self.extents[1:]))
            oc[n0, :, r0:r1] = grid[(slice(None), slice(None)) + valid]


def _grid_extents(geo: Geometry) -> list[int]:
    """Per spatial dimension, the padded input extent the whole output reads."""
    return [(q - 1) * s + (k - 1) * rd + 1 for q, s, k, rd in
            zip(geo.out_sizes, geo.strides, geo.kernel, geo.rhs_dilation)]


def shift_applies(geo: Geometry) -> bool:
    if geo.nsp == 0 or geo.taps == 1 or any(s != 1 for s in geo.strides):
        return False
    grid = math.prod(_grid_extents(geo)[1:])
    waste = grid / max(1, math.prod(geo.out_sizes[1:]))
    return geo.group_in >= SHIFT_MIN_CHANNELS and waste <= SHIFT_MAX_WASTE


def _balanced(total: int, block: int) -> int:
    """A block size no larger than ``block`` that splits ``total`` into even parts."""
    block = max(1, min(block, total))
    parts = _ceil_div(total, block)
    return _ceil_div(total, parts)


def _matrix(a, split: int):
    """``a`` as a 2-D view [prod(shape[:split]), prod(shape[split:])], or None when that
    needs a copy. (Cheaper than numpy's reshape, whose failed copy-free attempt and
    exception cost more than the small copies this saves.)"""
    cols = _merged(a.shape[split:], a.strides[split:])
    rows = _merged(a.shape[:split], a.strides[:split])
    if cols is None or rows is None:
        return None
    (n_cols, col_stride), (n_rows, row_stride) = cols, rows
    # An axis of at most one element may have any stride: give it the contiguous one.
    if col_stride is _ANY:
        col_stride = a.itemsize
    if row_stride is _ANY:
        row_stride = col_stride * max(n_cols, 1)
    return np.lib.stride_tricks.as_strided(a, (n_rows, n_cols), (row_stride, col_stride),
                                           writeable=a.flags.writeable)


_ANY = object()


def _merged(shape, strides):
    """(size, stride) of axes merged into one (stride ``_ANY`` when no axis has more than
    one element), or None when the elements are not evenly spaced."""
    stride, span = _ANY, 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 1:
            continue
        if stride is _ANY:
            stride = s
        elif s != stride * span:
            return None
        span *= n
    return math.prod(shape), stride


def _blas_input(m) -> bool:
    """Whether numpy's matmul hands ``m`` to BLAS as it is (unit stride on one axis,
    a leading dimension at least the other extent); otherwise it would use its slow
    loop, and a packed copy is faster."""
    item = m.itemsize
    s0, s1 = m.strides
    r, c = m.shape
    if s1 == item and s0 % item == 0 and s0 // item >= max(c, 1):
        return True
    return s0 == item and s1 % item == 0 and s1 // item >= max(r, 1)


def _blas_output(m) -> bool:
    item = m.itemsize
    s0, s1 = m.strides
    return s1 == item and s0 % item == 0 and s0 // item >= max(m.shape[1], 1)


# ----------------------------------------------------------------------------
# Threads. Tiles are independent: each thread of a small pool pulls the next tile
# and runs its GEMM on single-threaded BLAS. OpenBLAS's own threads meet at a barrier
# inside every call and spin while they wait, so on a machine whose cores are busy
# with other work one descheduled thread stalls the whole call (a 64x576x3136 sgemm
# measured 1.9 ms at best but 10-13 ms median with two threads under load, and a
# steady 3.8 ms single-threaded); threads pulling whole tiles only wait at the end.

# Convolutions below this many floating-point operations run on the calling thread.
PARALLEL_FLOPS = 1 << 24


_EXECUTOR = None
_EXECUTOR_LOCK = threading.Lock()


def _thread_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(_thread_count() - 1, thread_name_prefix="plax-conv")
    return _EXECUTOR


class _BlasThreads:
    """Holds OpenBLAS at one thread while tiles run in parallel, when numpy's BLAS is
    an OpenBLAS this process has loaded; ``available`` is False elsewhere, and tiles
    then run one after another on BLAS's own threads.

    The hold is process-wide: OpenBLAS's thread count is global (numpy's build also
    makes ``openblas_set_num_threads_local`` global, as measured), so another Python
    thread's BLAS calls run single-threaded while a convolution runs."""

    _GET = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
            "openblas_get_num_threads")
    _SET = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "openblas_set_num_threads")

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 1
        self._get, self._set, self.reason = self._find()

    @property
    def available(self) -> bool:
        return self._set is not None

    def _find(self):
        import ctypes

        for path in blas.loaded_libraries():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            get = next((getattr(lib, n) for n in self._GET if hasattr(lib, n)), None)
            set_ = next((getattr(lib, n) for n in self._SET if hasattr(lib, n)), None)
            if get is not None and set_ is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_, f"OpenBLAS at {path}"
        return None, None, "no loaded OpenBLAS with a thread-count API"

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                self._saved = self._get()
                self._set(1)
            self._users += 1

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._set(self._saved)


_BLAS_THREADS = None


def _run_tiles(work, tiles, parallel: bool) -> None:
    """Runs ``work(tile)`` for every tile: on the calling thread and the pool's threads
    (each pulling the next tile) with single-threaded BLAS when ``parallel`` and the
    BLAS thread count can be held, else in turn on the calling thread."""
    global _BLAS_THREADS
    if parallel and len(tiles) > 1:
        if _BLAS_THREADS is None:
            _BLAS_THREADS = _BlasThreads()
        if _BLAS_THREADS.available:
            queue = iter(tiles)  # list iterators hand out each item once, across threads

            def drain():
                for tile in queue:
                    work(tile)

            with _BLAS_THREADS:
                helpers = min(_thread_count(), len(tiles)) - 1
                futures = [_executor().submit(drain) for _ in range(helpers)]
                try:
                    drain()
                finally:
                    for future in futures:
                        future.result()
            return
    for tile in tiles:
        work(tile)


_local = threading.local()


def _scratch(name: str, size: int, dtype) -> np.ndarray:
    """A flat per-thread scratch array of ``size`` elements (reused across calls, so the
    pages are touched once; grows only)."""
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (name, np.dtype(dtype))
    buf = buffers.get(key)
    if buf is None or buf.size < size:
        buf = buffers[key] = np.empty(max(size, 1), dtype)
    return buf[:size]
