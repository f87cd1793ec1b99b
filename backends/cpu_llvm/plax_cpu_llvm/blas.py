"""numpy's own BLAS, called from generated code.

numpy ships OpenBLAS; its CBLAS symbols are found among the libraries the
process has loaded. ``symbols()`` gives the addresses of ``?gemm`` for the JIT's
import table, so a native loop driver calls BLAS with no Python in between;
``gemm_layout`` says whether a ``dot_general`` is a plain GEMM on its operands'
memory.

(Splitting GEMMs by rows across the backend's thread pool, each chunk a
single-threaded BLAS call, was measured against OpenBLAS's own threads for the
MLP workloads and 256/1024 matmuls on the 2-core machine: it was 5-20% slower,
so host-side dot_general stays on numpy's matmul.)
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os

import numpy as np

from plax.lowering.matmul import matmul_layout

__all__ = ["symbols", "gemm_layout", "loaded_libraries", "ROW_MAJOR", "NO_TRANS", "TRANS"]

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # the CBLAS enums

# (symbol pattern, bits of its integer arguments): ILP64 builds first, as numpy ships them.
_CANDIDATES = (("scipy_cblas_{}64_", 64), ("cblas_{}64_", 64), ("scipy_cblas_{}", 32),
               ("cblas_{}", 32))


def loaded_libraries() -> list[str]:
    """Paths of the BLAS libraries this process has loaded (numpy's first)."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    numpy_libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    paths += [p for p in glob.glob(os.path.join(numpy_libs, "*blas*")) if p not in paths]
    return paths


@functools.lru_cache(maxsize=1)
def _library():
    """(ctypes library, symbol pattern, integer bits) of a CBLAS with ?gemm, or None."""
    for path in loaded_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pattern, bits in _CANDIDATES:
            if all(hasattr(lib, pattern.format(r)) for r in ("sgemm", "dgemm")):
                return lib, pattern, bits
    return None


def symbols() -> tuple[dict, int]:
    """({"plax.blas.sgemm": address, "plax.blas.dgemm": address}, integer bits), or
    ({}, 0) when no CBLAS with both routines is loaded."""
    found = _library()
    if found is None:
        return {}, 0
    lib, pattern, bits = found
    return ({f"plax.blas.{r}": ctypes.cast(getattr(lib, pattern.format(r)),
                                           ctypes.c_void_p).value
             for r in ("sgemm", "dgemm")}, bits)


def gemm_layout(lhs_shape, rhs_shape, dimension_numbers):
    """``dot_general`` as ``batch`` row-major GEMMs without copying:
    (batch, m, n, k, transpose_lhs, transpose_rhs), or None when the operands'
    strides (``plax.lowering.matmul.matmul_layout``) are not ones BLAS takes: each
    matrix row-major (unit stride along its rows) or transposed, batches packed."""
    layout = matmul_layout(lhs_shape, rhs_shape, dimension_numbers)
    if layout is None:
        return None
    batch, m, n, k, (sab, sam, sak), (sbb, sbk, sbn) = layout

    def orientation(rows, cols, row_stride, col_stride):
        """False for a plain rows x cols matrix, True for one stored transposed."""
        if (cols == 1 or col_stride == 1) and (rows == 1 or row_stride == cols):
            return False
        if (rows == 1 or row_stride == 1) and (cols == 1 or col_stride == rows):
            return True
        return None

    ta = orientation(m, k, sam, sak)
    tb = orientation(k, n, sbk, sbn)
    packed = batch == 1 or (sab == m * k and sbb == k * n)
    if ta is None or tb is None or not packed:
        return None
    return batch, m, n, k, ta, tb
