"""Convolution: ``conv_general_dilated`` and its simpler forms.

lax convolution is cross-correlation (the kernel is not flipped), over any
number of spatial dimensions, with window strides, explicit or named padding,
input (``lhs``) dilation, kernel (``rhs``) dilation, feature groups and batch
groups. The public wrappers resolve every convenience (padding names, layout
strings, defaults) so that the primitive's params are canonical: explicit
``(low, high)`` pads and a ``ConvDimensionNumbers`` of integer tuples.

Layouts: ``lhs_spec`` lists the lhs axes holding (batch, feature, spatial...),
``rhs_spec`` the rhs axes holding (out feature, in feature, spatial...),
``out_spec`` the output axes holding (batch, feature, spatial...). Spatial
dimensions are matched by position in these tuples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.jvp import bilinear_jvp, jvp_rules
from plax.interpreters.transpose import is_undefined_primal, nonlinear_error, transpose_rules
from plax.interpreters.reference import impl_rules
from plax.lax.base import static_int, static_ints
from plax.lax.linalg import (
    accumulation_dtype,
    canonicalize_precision,
    canonicalize_preferred,
    from_accumulation,
    to_accumulation,
)

__all__ = [
    "ConvDimensionNumbers",
    "conv",
    "conv_dimension_numbers",
    "conv_general_dilated",
    "conv_general_permutations",
    "conv_with_general_padding",
    "padtype_to_pads",
]


# ----------------------------------------------------------------------------
# Layouts and padding.


class ConvDimensionNumbers(NamedTuple):
    """Axis positions of (batch, feature, spatial...) in lhs, (out, in, spatial...) in
    rhs and (batch, feature, spatial...) in the output."""

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]


def conv_general_permutations(dimension_numbers) -> ConvDimensionNumbers:
    """Layout strings such as ``('NHWC', 'HWIO', 'NHWC')`` as axis permutations.

    'N' and 'C' mark lhs/output batch and feature, 'O' and 'I' the kernel's out
    and in features; any other distinct letters name spatial dimensions, which
    are ordered as they appear in the kernel string.
    """
    lhs, rhs, out = dimension_numbers
    for i, (spec, pair) in enumerate(zip((lhs, rhs, out), ("NC", "OI", "NC"))):
        if spec.count(pair[0]) != 1 or spec.count(pair[1]) != 1:
            raise TypeError(
                f"convolution dimension_numbers[{i}] must contain the characters "
                f"{pair[0]!r} and {pair[1]!r} exactly once, got {spec!r}"
            )
        if len(set(spec)) != len(spec):
            raise TypeError(
                f"convolution dimension_numbers[{i}] cannot repeat a character, got {spec!r}"
            )
    spatial = set(rhs) - set("OI")
    if set(lhs) - set("NC") != spatial or set(out) - set("NC") != spatial:
        raise TypeError(
            "convolution dimension_numbers must name the same spatial dimensions in all "
            f"three layouts, got {tuple(dimension_numbers)!r}"
        )
    spatial_order = [c for c in rhs if c not in "OI"]

    def perm(spec: str, pair: str) -> tuple[int, ...]:
        return (spec.index(pair[0]), spec.index(pair[1])) + tuple(
            spec.index(c) for c in spatial_order
        )

    return ConvDimensionNumbers(perm(lhs, "NC"), perm(rhs, "OI"), perm(out, "NC"))


def _check_specs(dnums: ConvDimensionNumbers, ndim: int, name: str) -> None:
    for label, spec in zip(("lhs_spec", "rhs_spec", "out_spec"), dnums):
        if sorted(spec) != list(range(ndim)):
            raise TypeError(
                f"lax.{name}: dimension_numbers.{label} {spec} must be a permutation of "
                f"the {ndim} axes of the operands"
            )


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """Canonical ``ConvDimensionNumbers`` from None (NC..., OI..., NC...), layout strings,
    or integer permutations."""
    lhs_shape = tuple(lhs_shape)
    rhs_shape = tuple(rhs_shape)
    if len(lhs_shape) != len(rhs_shape):
        raise TypeError(
            f"convolution requires lhs and rhs of the same rank, got lhs shape {lhs_shape} "
            f"and rhs shape {rhs_shape}"
        )
    ndim = len(lhs_shape)
    if ndim < 2:
        raise TypeError(
            "convolution requires operands of rank at least 2 (batch and feature "
            f"dimensions), got lhs shape {lhs_shape} and rhs shape {rhs_shape}"
        )
    if dimension_numbers is None:
        iota = tuple(range(ndim))
        return ConvDimensionNumbers(iota, iota, iota)
    if not isinstance(dimension_numbers, (tuple, list)) or len(dimension_numbers) != 3:
        raise TypeError(
            "convolution dimension_numbers must be None, a ConvDimensionNumbers or a "
            "(lhs, rhs, out) triple of layout strings such as ('NCHW', 'OIHW', 'NCHW'), "
            f"got {dimension_numbers!r}"
        )
    if all(isinstance(s, str) for s in dimension_numbers):
        for i, spec in enumerate(dimension_numbers):
            if len(spec) != ndim:
                raise TypeError(
                    f"convolution dimension_numbers[{i}] {spec!r} must have one letter per "
                    f"operand dimension ({ndim}), for lhs shape {lhs_shape} and rhs shape "
                    f"{rhs_shape}"
                )
        return conv_general_permutations(dimension_numbers)
    try:
        dnums = ConvDimensionNumbers(
            *(static_ints(spec, "convolution dimension_numbers") for spec in dimension_numbers)
        )
    except TypeError:
        raise TypeError(
            "convolution dimension_numbers must be three layout strings or three integer "
            f"permutations, got {dimension_numbers!r}"
        ) from None
    _check_specs(dnums, ndim, "conv_general_dilated")
    return dnums


_PADDING_NAMES = ("VALID", "SAME", "SAME_LOWER")


def padtype_to_pads(in_shape, window_shape, window_strides, padding) -> list[tuple[int, int]]:
    """Explicit ``(low, high)`` pads for 'VALID', 'SAME' or 'SAME_LOWER' (any case).

    'SAME' pads so that the output size is ``ceil(in / stride)``, with the odd
    element at the end; 'SAME_LOWER' puts it at the start.
    """
    if not isinstance(padding, str) or padding.upper() not in _PADDING_NAMES:
        raise ValueError(
            f"padding must be one of 'VALID', 'SAME', 'SAME_LOWER' or a sequence of "
            f"(low, high) pairs, got {padding!r}"
        )
    mode = padding.upper()
    if mode == "VALID":
        return [(0, 0)] * len(in_shape)
    pads = []
    for size, window, stride in zip(in_shape, window_shape, window_strides):
        out = -(-size // stride)
        total = max((out - 1) * stride + window - size, 0)
        small, large = total // 2, total - total // 2
        pads.append((small, large) if mode == "SAME" else (large, small))
    return pads


def _explicit_pads(padding, nspatial: int, name: str) -> tuple[tuple[int, int], ...]:
    form = "a string ('VALID', 'SAME', 'SAME_LOWER') or a sequence of (low, high) pairs"
    if isinstance(padding, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            padding, f"lax.{name}: padding must be static, not a traced value."
        )
    try:
        pairs = tuple(padding)
        pads = tuple((static_int(p[0], "padding"), static_int(p[1], "padding")) for p in pairs)
        bad_len = any(len(p) != 2 for p in pairs)
    except (TypeError, IndexError):
        raise ValueError(f"lax.{name}: padding must be {form}, got {padding!r}") from None
    if bad_len:
        raise ValueError(f"lax.{name}: padding must be {form}, got {padding!r}")
    if len(pads) != nspatial:
        raise ValueError(
            f"lax.{name}: padding needs one (low, high) pair per spatial dimension "
            f"({nspatial}), got {len(pads)}: {padding!r}"
        )
    return pads


def dilate_size(size: int, dilation: int) -> int:
    """Size after inserting ``dilation - 1`` holes between neighbours."""
    return 0 if size == 0 else (size - 1) * dilation + 1


def window_output_size(padded: int, window: int, stride: int) -> int:
    """How many windows of size ``window`` fit in ``padded`` at the given stride."""
    return 0 if padded < window else (padded - window) // stride + 1


def cotangent_padding(
    size: int,
    window: int,
    out_size: int,
    low: int,
    stride: int,
    base_dilation: int,
    window_dilation: int,
) -> tuple[int, int]:
    """``(before, after)`` padding for the transpose of a windowed operation along one
    axis: the output cotangent, spread out by ``stride``, padded so that sliding the
    (flipped) window over it gives one value per element of the (dilated) input."""
    k_dilated = dilate_size(window, window_dilation)
    before = k_dilated - low - 1
    spread = dilate_size(out_size, stride)
    after = dilate_size(size, base_dilation) + k_dilated - 1 - spread - before
    return before, after


# ----------------------------------------------------------------------------
# Numpy helpers shared by the reference rules (convolution and reduce_window).


def dilate_spatial(x: np.ndarray, dilations, first_axis: int, fill=0) -> np.ndarray:
    """Insert ``dilation - 1`` fill elements between neighbours along axes first_axis...."""
    if all(d == 1 for d in dilations):
        return x
    shape = list(x.shape)
    index = [slice(None)] * x.ndim
    for i, d in enumerate(dilations):
        axis = first_axis + i
        shape[axis] = dilate_size(x.shape[axis], d)
        index[axis] = slice(None, None, d)
    out = np.full(shape, fill, dtype=x.dtype)
    out[tuple(index)] = x
    return out


def pad_spatial(x: np.ndarray, pads, first_axis: int, fill=0) -> np.ndarray:
    """Pad (negative: crop) axes first_axis... : out[i] = x[i - low] where in range."""
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    shape = list(x.shape)
    dst = [slice(None)] * x.ndim
    src = [slice(None)] * x.ndim
    empty = False
    for i, (lo, hi) in enumerate(pads):
        axis = first_axis + i
        size = x.shape[axis]
        out_size = size + lo + hi
        start, stop = max(0, lo), min(out_size, size + lo)
        shape[axis] = out_size
        dst[axis] = slice(start, stop)
        src[axis] = slice(start - lo, stop - lo)
        empty = empty or stop <= start
    out = np.full(shape, fill, dtype=x.dtype)
    if not empty:
        out[tuple(dst)] = x[tuple(src)]
    return out


def spatial_windows(x: np.ndarray, window, strides, window_dilation, first_axis: int):
    """A view of shape ``x.shape[:first_axis] + out_sizes + window`` holding each
    (strided, dilated) window of the axes first_axis...; None if no window fits."""
    nsp = len(window)
    if nsp == 0:
        return x
    axes = tuple(range(first_axis, first_axis + nsp))
    effective = tuple(dilate_size(k, d) for k, d in zip(window, window_dilation))
    if any(x.shape[a] < e for a, e in zip(axes, effective)):
        return None
    view = np.lib.stride_tricks.sliding_window_view(x, effective, axis=axes)
    index = (
        (slice(None),) * first_axis
        + tuple(slice(None, None, s) for s in strides)
        + tuple(slice(None, None, d) for d in window_dilation)
    )
    return view[index]


# -- conv_general_dilated ----------------------------------------------------------
_NAME = "conv_general_dilated"


def _conv_result_dtype(lhs: ShapedArray, rhs: ShapedArray, preferred) -> np.dtype:
    if lhs.dtype != rhs.dtype:
        raise TypeError(
            f"lax.{_NAME} requires lhs and rhs to have the same dtype, got {lhs.dtype.name} "
            f"and {rhs.dtype.name}; convert one with lax.convert_element_type"
        )
    dt = lhs.dtype
    if preferred is None or preferred == dt:
        return dt
    # JAX's rule: integer inputs may produce any float; otherwise the kind and
    # signedness must match and the preferred type may not be narrower.
    kinds = ((dtypes.INTEGERS, "integer"), (dtypes.FLOATS, "floating"))
    if not (dtypes.is_integer(dt) and dtypes.is_float(preferred)):
        for group, kind in kinds:
            if dt in group and preferred not in group:
                raise TypeError(
                    f"lax.{_NAME}: preferred_element_type {preferred.name} is incompatible "
                    f"with {kind} inputs of dtype {dt.name}; allowed pairs are "
                    "(integer, integer), (integer, floating) and (floating, floating)"
                )
        if dtypes.is_signed(dt) and not dtypes.is_signed(preferred):
            raise TypeError(
                f"lax.{_NAME}: preferred_element_type {preferred.name} must be signed like "
                f"the inputs' dtype {dt.name}"
            )
    if preferred.itemsize < dt.itemsize:
        raise TypeError(
            f"lax.{_NAME}: preferred_element_type {preferred.name} must not be narrower "
            f"than the inputs' dtype {dt.name}"
        )
    return preferred


def _check_positive(values, what: str, nspatial: int) -> None:
    if len(values) != nspatial:
        raise TypeError(
            f"lax.{_NAME}: {what} needs one entry per spatial dimension ({nspatial}), got {values}"
        )
    if any(v < 1 for v in values):
        raise ValueError(f"lax.{_NAME}: {what} must be positive, got {values}")


def _conv_shape(
    lhs,
    rhs,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
    feature_group_count,
    batch_group_count,
):
    shapes = f"lhs shape {lhs.shape}, rhs shape {rhs.shape}"
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise TypeError(
            f"lax.{_NAME} requires lhs and rhs of the same rank, at least 2; got {shapes}"
        )
    _check_specs(dimension_numbers, lhs.ndim, _NAME)
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nsp = lhs.ndim - 2
    _check_positive(window_strides, "window_strides", nsp)
    _check_positive(lhs_dilation, "lhs_dilation", nsp)
    _check_positive(rhs_dilation, "rhs_dilation", nsp)
    if len(padding) != nsp:
        raise TypeError(
            f"lax.{_NAME}: padding needs one (low, high) pair per spatial dimension "
            f"({nsp}), got {padding}"
        )
    batch = lhs.shape[lhs_spec[0]]
    features = lhs.shape[lhs_spec[1]]
    out_features = rhs.shape[rhs_spec[0]]
    in_features = rhs.shape[rhs_spec[1]]
    group_counts = (
        (feature_group_count, "feature_group_count"),
        (batch_group_count, "batch_group_count"),
    )
    for count, what in group_counts:
        if count < 1:
            raise ValueError(f"lax.{_NAME}: {what} must be a positive integer, got {count}")
    if feature_group_count > 1 and batch_group_count > 1:
        raise ValueError(
            f"lax.{_NAME}: at most one of feature_group_count ({feature_group_count}) and "
            f"batch_group_count ({batch_group_count}) may be greater than 1"
        )
    if features % feature_group_count:
        raise ValueError(
            f"lax.{_NAME}: feature_group_count {feature_group_count} must divide the lhs "
            f"feature dimension size {features} ({shapes})"
        )
    if features // feature_group_count != in_features:
        raise ValueError(
            f"lax.{_NAME}: the lhs feature dimension size divided by feature_group_count "
            f"({features} // {feature_group_count} = {features // feature_group_count}) must "
            f"equal the rhs input feature dimension size {in_features} ({shapes})"
        )
    if batch % batch_group_count:
        raise ValueError(
            f"lax.{_NAME}: batch_group_count {batch_group_count} must divide the lhs batch "
            f"dimension size {batch} ({shapes})"
        )
    for count, what in group_counts:
        if out_features % count:
            raise ValueError(
                f"lax.{_NAME}: the rhs output feature dimension size {out_features} must be a "
                f"multiple of {what} {count} ({shapes})"
            )
    out_spatial = []
    for i in range(nsp):
        size = lhs.shape[lhs_spec[2 + i]]
        window = rhs.shape[rhs_spec[2 + i]]
        if window < 1:
            raise ValueError(
                f"lax.{_NAME}: kernel spatial dimensions must be positive, got a kernel of "
                f"size {window} in spatial dimension {i} ({shapes})"
            )
        lo, hi = padding[i]
        padded = dilate_size(size, lhs_dilation[i]) + lo + hi
        if padded < 0:
            raise ValueError(
                f"lax.{_NAME}: negative padding {padding[i]} removes more than the "
                f"{dilate_size(size, lhs_dilation[i])} elements of spatial dimension {i} "
                f"(after lhs_dilation; {shapes})"
            )
        effective = dilate_size(window, rhs_dilation[i])
        out_spatial.append(window_output_size(padded, effective, window_strides[i]))
    canonical = (batch // batch_group_count, out_features) + tuple(out_spatial)
    out_shape = [0] * lhs.ndim
    for axis, size in zip(out_spec, canonical):
        out_shape[axis] = size
    return tuple(out_shape)


def _conv_rule(lhs: ShapedArray, rhs: ShapedArray, *, precision, preferred_element_type, **params):
    shape = _conv_shape(lhs, rhs, **params)
    dtype = _conv_result_dtype(lhs, rhs, preferred_element_type)
    return [ShapedArray(shape, dtype, lhs.weak_type and rhs.weak_type)]


def _conv_impl(
    lhs,
    rhs,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
    feature_group_count,
    batch_group_count,
    precision,
    preferred_element_type,
):
    lhs = np.asarray(lhs)
    rhs = np.asarray(rhs)
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    out_dtype = lhs.dtype if preferred_element_type is None else preferred_element_type
    acc = accumulation_dtype((lhs.dtype, rhs.dtype), out_dtype)
    nsp = lhs.ndim - 2
    # Canonical layouts: x is [batch, feature, spatial...], w is [out, in, spatial...].
    x = to_accumulation(np.transpose(lhs, lhs_spec), acc)
    w = to_accumulation(np.transpose(rhs, rhs_spec), acc)
    x = pad_spatial(dilate_spatial(x, lhs_dilation, 2), padding, 2)

    groups = feature_group_count * batch_group_count
    batch, features = x.shape[:2]
    out_batch = batch // batch_group_count
    group_in = features // feature_group_count
    group_out = w.shape[0] // groups
    kernel = w.shape[2:]
    out_spatial = tuple(
        window_output_size(p, dilate_size(k, d), s)
        for p, k, d, s in zip(x.shape[2:], kernel, rhs_dilation, window_strides)
    )
    windows = spatial_windows(x, kernel, window_strides, rhs_dilation, 2)
    if windows is None or 0 in (out_batch, group_out) + out_spatial:
        canonical = np.zeros((out_batch, w.shape[0]) + out_spatial, dtype=acc)
    else:
        # im2col: windows [B, Nb, G, Cg, out..., k...] -> [groups, Nb * out, Cg * k], so that
        # each group (batch group b or feature group g; one of them is 1) is a matmul.
        windows = windows.reshape(
            (batch_group_count, out_batch, feature_group_count, group_in) + out_spatial + kernel
        )
        out_axes = tuple(range(4, 4 + nsp))
        kernel_axes = tuple(range(4 + nsp, 4 + 2 * nsp))
        windows = windows.transpose((0, 2, 1) + out_axes + (3,) + kernel_axes)
        n_out = int(np.prod(out_spatial, dtype=np.int64))
        n_k = group_in * int(np.prod(kernel, dtype=np.int64))
        cols = windows.reshape(groups, out_batch * n_out, n_k)
        w = w.reshape((groups, group_out, group_in) + kernel)
        w = w.transpose((0,) + tuple(range(2, 3 + nsp)) + (1,)).reshape(groups, n_k, group_out)
        out = np.matmul(cols, w).reshape((groups, out_batch) + out_spatial + (group_out,))
        # -> [Nb, groups, group_out, out...] -> [Nb, O, out...]
        out = out.transpose((1, 0, 2 + nsp) + tuple(range(2, 2 + nsp)))
        canonical = out.reshape((out_batch, groups * group_out) + out_spatial)
    result = np.transpose(canonical, np.argsort(out_spec))
    return [from_accumulation(result, out_dtype)]


# Batching folds the batch axis into an axis the convolution already runs in parallel
# (as JAX does), so there is no loop over examples:
#   lhs only: into the lhs batch dimension N;
#   rhs only: into the kernel's output features O;
#   both:     into the lhs features C with B times the feature groups (or, with batch
#             groups, into N with B times the batch groups), and into O.
# Grouped dimensions keep their groups outermost: an axis of G groups of M entries
# becomes G groups of (B examples x M entries), so each group still holds its own part.


def _fold_batch(x, bdim: int, axis: int, groups: int = 1):
    """Fold batch axis ``bdim`` of ``x`` into axis ``axis`` (counted without the batch
    axis), batch-major within each of ``groups`` groups."""
    from plax.lax.shapes import reshape

    shape = core.get_aval(x).shape
    pos = batching.shift_axis(axis, bdim)
    if groups > 1:
        split = shape[:pos] + (groups, shape[pos] // groups) + shape[pos + 1 :]
        x = reshape(x, split)
        shape = split
        bdim = bdim if bdim < pos else bdim + 1
        members, skipped = [pos, bdim, pos + 1], {bdim, pos + 1}
    else:
        members, skipped = [bdim, pos], {bdim}
    order = []
    for a in range(len(shape)):
        if a == pos:
            order.append(members)
        elif a not in skipped:
            order.append([a])
    sizes = tuple(int(np.prod([shape[a] for a in group])) for group in order)
    perm = tuple(a for group in order for a in group)
    if perm == tuple(range(len(shape))):
        return reshape(x, sizes)
    return reshape(x, sizes, perm)


def _unfold_batch(out, axis: int, batch: int, groups: int = 1):
    """Split axis ``axis`` of ``out`` (groups x batch x rest, group-major) into a batch axis
    at ``axis`` followed by the remaining (groups x rest) entries."""
    from plax.lax.shapes import reshape

    shape = core.get_aval(out).shape
    rest = shape[axis] // (groups * batch)
    if groups == 1:
        return reshape(out, shape[:axis] + (batch, rest) + shape[axis + 1 :])
    split = shape[:axis] + (groups, batch, rest) + shape[axis + 1 :]
    out = reshape(out, split)
    perm = list(range(len(split)))
    perm[axis], perm[axis + 1] = axis + 1, axis
    return reshape(out, shape[:axis] + (batch, groups * rest) + shape[axis + 1 :], perm)


def _conv_batch(args, dims, **params):
    (lhs, rhs), (lhs_bdim, rhs_bdim) = args, dims
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    fgc, bgc = params["feature_group_count"], params["batch_group_count"]
    batch = batching.axis_size_of(args, dims)
    if batch == 0:
        lhs_aval = _unbatched_aval(lhs, lhs_bdim)
        rhs_aval = _unbatched_aval(rhs, rhs_bdim)
        (aval,) = _conv_rule(lhs_aval, rhs_aval, **params)
        zero = np.zeros((0,) + aval.shape, aval.dtype)
        return [zero], [0]
    if lhs_bdim is not batching.not_mapped and rhs_bdim is not batching.not_mapped:
        if bgc > 1:
            lhs = _fold_batch(lhs, lhs_bdim, lhs_spec[0])
            params = dict(params, batch_group_count=bgc * batch)
        else:
            lhs = _fold_batch(lhs, lhs_bdim, lhs_spec[1])
            params = dict(params, feature_group_count=fgc * batch)
        rhs = _fold_batch(rhs, rhs_bdim, rhs_spec[0])
        out = conv_general_dilated_p.bind(lhs, rhs, **params)
        return [_unfold_batch(out, out_spec[1], batch)], [out_spec[1]]
    if lhs_bdim is not batching.not_mapped:
        lhs = _fold_batch(lhs, lhs_bdim, lhs_spec[0], bgc)
        out = conv_general_dilated_p.bind(lhs, rhs, **params)
        return [_unfold_batch(out, out_spec[0], batch)], [out_spec[0]]
    groups = fgc * bgc  # at most one of them is above 1
    rhs = _fold_batch(rhs, rhs_bdim, rhs_spec[0], groups)
    out = conv_general_dilated_p.bind(lhs, rhs, **params)
    return [_unfold_batch(out, out_spec[1], batch, groups)], [out_spec[1]]


def _unbatched_aval(x, bdim) -> ShapedArray:
    aval = core.get_aval(x)
    if bdim is batching.not_mapped:
        return aval
    return ShapedArray(aval.shape[:bdim] + aval.shape[bdim + 1 :], aval.dtype, aval.weak_type)


# The transposes work in the canonical layouts (lhs/out: batch, feature, spatial...;
# rhs: out feature, in feature, spatial...) and permute back at the end.
def _canonical(x, spec):
    from plax.lax.shapes import transpose

    return transpose(x, tuple(spec))


def _from_canonical(x, spec, dtype):
    from plax.lax.convert import convert_element_type
    from plax.lax.shapes import transpose

    out = transpose(x, tuple(np.argsort(spec).tolist()))
    return out if core.get_aval(out).dtype == dtype else convert_element_type(out, dtype)


def _swap_leading(x):
    from plax.lax.shapes import transpose

    ndim = core.get_aval(x).ndim
    return transpose(x, (1, 0) + tuple(range(2, ndim)))


def _conv_lhs_cotangent(ct, w, lhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type):
    """d lhs: the cotangent, dilated by the strides, correlated with the spatially
    flipped kernel (in and out features swapped within each group), read with a
    stride of lhs_dilation."""
    from plax.lax.shapes import reshape, rev, transpose

    lhs_spec, rhs_spec, out_spec = dimension_numbers
    g = _canonical(ct, out_spec)
    w = _canonical(w, rhs_spec)
    nsp = len(window_strides)
    spatial = tuple(range(2, 2 + nsp))
    groups = feature_group_count * batch_group_count
    out_features, in_features = core.get_aval(w).shape[:2]
    kernel = core.get_aval(w).shape[2:]
    w = reshape(w, (groups, out_features // groups, in_features) + kernel)
    w = transpose(w, (0, 2, 1) + tuple(range(3, 3 + nsp)))
    w = rev(reshape(w, (groups * in_features, out_features // groups) + kernel), spatial)
    in_sizes = [lhs_aval.shape[a] for a in lhs_spec[2:]]
    out_sizes = core.get_aval(g).shape[2:]
    pads = []
    for size, k, n, (lo, _), s, ld, rd in zip(
        in_sizes, kernel, out_sizes, padding, window_strides, lhs_dilation, rhs_dilation
    ):
        pads.append(cotangent_padding(size, k, n, lo, s, ld, rd))
    iota = tuple(range(2 + nsp))
    r = conv_general_dilated_p.bind(
        g, w, window_strides=tuple(lhs_dilation), padding=tuple(pads),
        lhs_dilation=tuple(window_strides), rhs_dilation=tuple(rhs_dilation),
        dimension_numbers=ConvDimensionNumbers(iota, iota, iota), feature_group_count=groups,
        batch_group_count=1, precision=precision, preferred_element_type=None,
    )
    if batch_group_count > 1:
        # Batch groups were computed as feature groups: move the group to the batch.
        shape = core.get_aval(r).shape
        r = reshape(r, (shape[0], batch_group_count, in_features) + shape[2:])
        r = transpose(r, (1, 0) + tuple(range(2, 3 + nsp)))
        r = reshape(r, (batch_group_count * shape[0], in_features) + shape[2:])
    return _from_canonical(r, lhs_spec, lhs_aval.dtype)


def _conv_rhs_cotangent(ct, x, rhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type):
    """d rhs: the (dilated, padded) lhs correlated with the cotangent, with batch and
    feature axes swapped on both; feature groups become batch groups and back."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    x = _swap_leading(_canonical(x, lhs_spec))
    g = _swap_leading(_canonical(ct, out_spec))
    in_sizes = core.get_aval(x).shape[2:]
    out_sizes = core.get_aval(g).shape[2:]
    kernel = [rhs_aval.shape[a] for a in rhs_spec[2:]]
    pads = []
    for size, k, n, (lo, _), s, ld, rd in zip(
        in_sizes, kernel, out_sizes, padding, window_strides, lhs_dilation, rhs_dilation
    ):
        high = dilate_size(n, s) - dilate_size(size, ld) + dilate_size(k, rd) - lo - 1
        pads.append((lo, high))
    iota = tuple(range(len(lhs_spec)))
    r = conv_general_dilated_p.bind(
        x, g, window_strides=tuple(rhs_dilation), padding=tuple(pads),
        lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(window_strides),
        dimension_numbers=ConvDimensionNumbers(iota, iota, iota),
        feature_group_count=batch_group_count, batch_group_count=feature_group_count,
        precision=precision, preferred_element_type=None,
    )
    return _from_canonical(_swap_leading(r), rhs_spec, rhs_aval.dtype)


def _conv_transpose(cts, x, w, **params):
    (ct,) = cts
    if is_undefined_primal(x) and is_undefined_primal(w):
        raise nonlinear_error("conv_general_dilated")
    if is_undefined_primal(x):
        return [_conv_lhs_cotangent(ct, w, x.aval, **params), None]
    return [None, _conv_rhs_cotangent(ct, x, w.aval, **params)]


conv_general_dilated_p = core.Primitive("conv_general_dilated")
core.abstract_eval_rules[conv_general_dilated_p] = _conv_rule
impl_rules[conv_general_dilated_p] = _conv_impl
jvp_rules[conv_general_dilated_p] = bilinear_jvp(conv_general_dilated_p)
transpose_rules[conv_general_dilated_p] = _conv_transpose
batching.batch_rules[conv_general_dilated_p] = _conv_batch


def _spatial_param(values, default_ones: int, what: str) -> tuple[int, ...]:
    if values is None:
        return (1,) * default_ones
    return static_ints(values, f"lax.{_NAME}: {what}")


def conv_general_dilated(
    lhs,
    rhs,
    window_strides,
    padding,
    lhs_dilation=None,
    rhs_dilation=None,
    dimension_numbers=None,
    feature_group_count=1,
    batch_group_count=1,
    precision=None,
    preferred_element_type=None,
):
    """General n-d convolution (cross-correlation) with dilations and groups.

    ``padding`` is 'VALID', 'SAME', 'SAME_LOWER' or one ``(low, high)`` pair per
    spatial dimension (negative values crop). ``dimension_numbers`` is None
    (NC..., OI..., NC...), a ``ConvDimensionNumbers`` or layout strings such as
    ``('NHWC', 'HWIO', 'NHWC')``.
    """
    lhs_aval = core.get_aval(lhs)
    rhs_aval = core.get_aval(rhs)
    dnums = conv_dimension_numbers(lhs_aval.shape, rhs_aval.shape, dimension_numbers)
    nsp = lhs_aval.ndim - 2
    strides = static_ints(window_strides, f"lax.{_NAME}: window_strides")
    lhs_dil = _spatial_param(lhs_dilation, nsp, "lhs_dilation")
    rhs_dil = _spatial_param(rhs_dilation, nsp, "rhs_dilation")
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dil):
            raise ValueError(
                f"lax.{_NAME}: string padding {padding!r} is not supported together with "
                f"lhs_dilation {lhs_dil} (a transposed convolution); pass explicit "
                "(low, high) pairs"
            )
        _check_positive(strides, "window_strides", nsp)
        _check_positive(rhs_dil, "rhs_dilation", nsp)
        in_sizes = [lhs_aval.shape[a] for a in dnums.lhs_spec[2:]]
        windows = [dilate_size(rhs_aval.shape[a], d) for a, d in zip(dnums.rhs_spec[2:], rhs_dil)]
        pads = tuple(padtype_to_pads(in_sizes, windows, strides, padding))
    else:
        pads = _explicit_pads(padding, nsp, _NAME)
    return conv_general_dilated_p.bind(
        lhs,
        rhs,
        window_strides=strides,
        padding=pads,
        lhs_dilation=lhs_dil,
        rhs_dilation=rhs_dil,
        dimension_numbers=dnums,
        feature_group_count=static_int(feature_group_count, f"lax.{_NAME}: feature_group_count"),
        batch_group_count=static_int(batch_group_count, f"lax.{_NAME}: batch_group_count"),
        precision=canonicalize_precision(precision, _NAME),
        preferred_element_type=canonicalize_preferred(preferred_element_type, _NAME),
    )


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """Convolution in NC.../OI... layout without dilation or groups."""
    return conv_with_general_padding(
        lhs, rhs, window_strides, padding, None, None, precision, preferred_element_type
    )


def conv_with_general_padding(
    lhs,
    rhs,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    precision=None,
    preferred_element_type=None,
):
    """Convolution in NC.../OI... layout with dilations."""
    return conv_general_dilated(
        lhs,
        rhs,
        window_strides,
        padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        precision=precision,
        preferred_element_type=preferred_element_type,
    )
