"""``dot_general`` as a batched matrix product on its operands' own memory.

A backend with a matrix-multiply routine (BLAS, a tiled kernel) wants to know
whether a ``dot_general`` can run on C-contiguous operands as they are, without
a transposing copy: each operand's batch, free and contracting dimensions must
each walk memory with a single stride. ``matmul_layout`` answers with the
sizes and those strides; a backend checks the strides its routine accepts
(``plax_cpu_llvm.blas.gemm_layout`` narrows it to what BLAS takes).
"""

from __future__ import annotations

import math

__all__ = ["row_major_strides", "group_stride", "matmul_layout"]


def row_major_strides(shape) -> list[int]:
    """Element strides of a C-contiguous array of ``shape``."""
    strides = []
    stride = 1
    for n in reversed(shape):
        strides.append(stride)
        stride *= n
    return strides[::-1]


def group_stride(shape, strides, dims) -> int | None:
    """The one stride that walks ``dims`` (in this order) as a flat index, or None."""
    dims = [d for d in dims if shape[d] != 1]
    if not dims:
        return 0
    for a, b in zip(dims, dims[1:]):
        if strides[a] != strides[b] * shape[b]:
            return None
    return strides[dims[-1]]


def matmul_layout(lhs_shape, rhs_shape, dimension_numbers):
    """(batch, M, N, K, (lhs batch, M, K strides), (rhs batch, K, N strides)) when
    ``dot_general`` is a plain batched matrix product of C-contiguous operands, else
    None. The result is [batch, M, N] row-major, as ``dot_general`` lays it out."""
    (lc, rc), (lb, rb) = dimension_numbers
    lhs_free = [d for d in range(len(lhs_shape)) if d not in lc and d not in lb]
    rhs_free = [d for d in range(len(rhs_shape)) if d not in rc and d not in rb]
    ls = row_major_strides(lhs_shape)
    rs = row_major_strides(rhs_shape)
    lhs_strides = [group_stride(lhs_shape, ls, g) for g in (lb, lhs_free, lc)]
    rhs_strides = [group_stride(rhs_shape, rs, g) for g in (rb, rc, rhs_free)]
    if any(s is None for s in lhs_strides + rhs_strides):
        return None

    def size(shape, dims):
        return math.prod(shape[d] for d in dims)

    batch = size(lhs_shape, lb)
    m = size(lhs_shape, lhs_free)
    k = size(lhs_shape, lc)
    n = size(rhs_shape, rhs_free)
    return batch, m, n, k, tuple(lhs_strides), tuple(rhs_strides)
