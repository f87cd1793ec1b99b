"""``associative_scan``: an inclusive prefix scan with an associative operator,
built from lax slicing, concatenation and padding (no loop primitive).

The parallel-prefix scheme (as in JAX): combine neighbouring pairs, scan that
half-length sequence recursively (giving the prefixes at odd positions), then
combine each of those with the next even element (giving the prefixes at even
positions) and interleave the two. The depth is O(log n) and every step works
on whole arrays, so it batches and differentiates like ordinary lax code.
"""

from __future__ import annotations

from collections.abc import Callable

from plax import core, dtypes
from plax.lax.control_flow import common
from plax.tree_util import tree_flatten, tree_unflatten

__all__ = ["associative_scan"]


def associative_scan(fn: Callable, elems, reverse: bool = False, axis: int = 0):
    """All prefix reductions of ``elems`` along ``axis`` under ``fn``.

    ``fn(a, b)`` must be associative and work elementwise on pytrees shaped like
    ``elems`` (with any size along ``axis``). ``reverse=True`` scans from the end.
    """
    from plax.lax.shapes import normalize_axis, rev

    common.check_callable("associative_scan", fn=fn)
    elems_flat, tree = tree_flatten(elems)
    if not elems_flat:
        raise ValueError("lax.associative_scan: elems must contain at least one array")
    avals = common.flat_avals(elems_flat)
    ndim = avals[0].ndim
    if ndim == 0:
        raise ValueError(
            "lax.associative_scan: elems must have at least one dimension to scan along, got "
            f"{common.type_text(avals[0])}"
        )
    axis = normalize_axis("associative_scan", axis, ndim)
    sizes = [a.shape[axis] if a.ndim > axis else None for a in avals]
    if len(set(sizes)) != 1:
        shapes = [a.shape for a in avals]
        raise ValueError(
            f"lax.associative_scan: every leaf of elems must have the same size along axis "
            f"{axis}, got sizes {sizes} (shapes {shapes})"
        )

    def combine(a_flat, b_flat):
        out = fn(tree_unflatten(tree, a_flat), tree_unflatten(tree, b_flat))
        out_flat, out_tree = tree_flatten(out)
        if out_tree != tree:
            raise TypeError(
                "lax.associative_scan: fn must return the same pytree structure as elems, "
                f"got {common.tree_text(out_tree)} for elems {common.tree_text(tree)}"
            )
        return out_flat

    if reverse:
        elems_flat = [rev(x, (axis,)) for x in elems_flat]
    out = _prefix_scan(combine, elems_flat, axis)
    if reverse:
        out = [rev(x, (axis,)) for x in out]
    return tree_unflatten(tree, out)


def _prefix_scan(combine, elems: list, axis: int) -> list:
    from plax.lax.shapes import concatenate, slice_in_dim

    n = core.get_aval(elems[0]).shape[axis]
    if n < 2:
        return elems
    pairs = combine(
        [slice_in_dim(x, 0, n - 1, 2, axis) for x in elems],
        [slice_in_dim(x, 1, n, 2, axis) for x in elems],
    )
    odd = _prefix_scan(combine, pairs, axis)
    if n % 2 == 0:
        # The last odd prefix has no even element after it.
        heads = [slice_in_dim(x, 0, core.get_aval(x).shape[axis] - 1, 1, axis) for x in odd]
    else:
        heads = odd
    later_evens = [slice_in_dim(x, 2, n, 2, axis) for x in elems]
    even = combine(heads, later_evens)
    even = [concatenate([slice_in_dim(x, 0, 1, 1, axis), e], axis) for x, e in zip(elems, even)]
    return [_interleave(e, o, axis) for e, o in zip(even, odd)]


def _interleave(a, b, axis: int):
    """``[a0, b0, a1, b1, ...]`` along ``axis``; ``a`` has as many or one more entries."""
    from plax.lax.bitwise import bitwise_or
    from plax.lax.elementwise import add
    from plax.lax.shapes import pad

    aval = core.get_aval(a)
    ndim = aval.ndim
    same = aval.shape[axis] == core.get_aval(b).shape[axis]
    zero = common.scalar_zero(aval.dtype)
    a_cfg = [(0, 0, 0)] * ndim
    b_cfg = [(0, 0, 0)] * ndim
    a_cfg[axis] = (0, 1 if same else 0, 1)
    b_cfg[axis] = (1, 0 if same else 1, 1)
    op = bitwise_or if aval.dtype == dtypes.bool_ else add
    return op(pad(a, zero, a_cfg), pad(b, zero, b_cfg))
