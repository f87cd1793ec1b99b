"""Independent numpy oracles for the operations where numpy's own semantics differ from
JAX's (integer division, shifts, float -> int conversion, ...).

They are written from JAX's documented and observed behaviour (checked against JAX
0.10 on CPU), separately from plax's reference interpreter, so that the suite also
catches bugs in the reference. Exact integer arithmetic goes through Python ints (object
arrays): slow, but the arrays are small.
"""

from __future__ import annotations

import math

import numpy as np

from plax import dtypes

__all__ = [
    "clz",
    "convert",
    "float_op",
    "int_div",
    "int_rem",
    "population_count",
    "round_away",
    "shift_left",
    "shift_right_arithmetic",
    "shift_right_logical",
    "via_math",
    "wrap",
]


def _is_half(dtype) -> bool:
    return np.dtype(dtype) in (dtypes.float16, dtypes.bfloat16)


def float_op(fn):
    """``fn`` with half-precision operands computed in float32 (the runner rounds the
    result to the case's dtype)."""

    def oracle(*args, **params):
        wide = [a.astype(np.float32) if _is_half(a.dtype) else a for a in args]
        with np.errstate(all="ignore"):
            return fn(*wide, **params)

    return oracle


def via_math(scalar_fn, pole=math.inf):
    """An elementwise oracle from a ``math`` function (float64), ``pole`` where it raises."""

    def one(v: float) -> float:
        if math.isnan(v):
            return math.nan
        try:
            return scalar_fn(v)
        except (ValueError, OverflowError):
            return pole

    vectorized = np.vectorize(one, otypes=[np.float64])

    def oracle(x):
        x64 = np.asarray(x, dtype=np.float64)
        return vectorized(x64) if x64.size else x64

    return oracle


def _objects(x) -> np.ndarray:
    return np.asarray(x).astype(object)


def wrap(values, dtype) -> np.ndarray:
    """Python ints wrapped (two's complement) into ``dtype``."""
    dtype = np.dtype(dtype)
    bits = dtype.itemsize * 8
    mask = (1 << bits) - 1
    signed = dtypes.is_signed(dtype)

    def one(v):
        v = int(v) & mask
        if signed and v >> (bits - 1):
            v -= 1 << bits
        return v

    flat = [one(v) for v in np.ravel(values)]
    return np.array(flat, dtype=dtype).reshape(np.shape(values))


def int_div(x, y):
    """JAX integer division: truncation toward zero; x / 0 is -1 (all ones: the unsigned
    maximum); INT_MIN / -1 wraps to INT_MIN."""
    if not dtypes.is_integer(np.asarray(x).dtype):
        return np.divide(x, y)
    dtype = np.asarray(x).dtype
    out = []
    for a, b in zip(np.ravel(_objects(x)), np.ravel(_objects(y))):
        if b == 0:
            out.append(-1)
        else:
            q = abs(a) // abs(b)
            out.append(q if (a < 0) == (b < 0) else -q)
    return wrap(np.array(out, dtype=object).reshape(np.shape(x)), dtype)


def int_rem(x, y):
    """JAX remainder: the sign of the dividend (C fmod); x rem 0 is x; INT_MIN rem -1 is 0."""
    if not dtypes.is_integer(np.asarray(x).dtype):
        return np.fmod(x, y)
    dtype = np.asarray(x).dtype
    out = []
    for a, b in zip(np.ravel(_objects(x)), np.ravel(_objects(y))):
        if b == 0:
            out.append(a)
        else:
            r = abs(a) % abs(b)
            out.append(-r if a < 0 else r)
    return wrap(np.array(out, dtype=object).reshape(np.shape(x)), dtype)


def _shift(x, amount, kind: str):
    dtype = np.asarray(x).dtype
    bits = dtype.itemsize * 8
    unsigned_dtype = np.dtype(f"uint{bits}")
    mask = (1 << bits) - 1
    out = []
    xs = np.ravel(np.asarray(x).view(unsigned_dtype)).astype(object)
    amounts = np.ravel(np.asarray(amount).view(unsigned_dtype)).astype(object)
    for v, s in zip(xs, amounts):
        v, s = int(v), int(s)  # both as unsigned bit patterns: negative amounts are huge
        negative = bool(v >> (bits - 1))
        if s >= bits:
            if kind == "arithmetic" and negative:
                out.append(mask)
            else:
                out.append(0)
        elif kind == "left":
            out.append((v << s) & mask)
        elif kind == "logical":
            out.append(v >> s)
        else:
            filled = (v >> s) | ((mask << (bits - s)) & mask if negative and s else 0)
            out.append(filled)
    result = np.array(out, dtype=unsigned_dtype).reshape(np.shape(x))
    return result.view(dtype)


def shift_left(x, y):
    """Shift amounts >= the bit width (or negative) give 0."""
    return _shift(x, y, "left")


def shift_right_logical(x, y):
    """Shift amounts >= the bit width (or negative) give 0."""
    return _shift(x, y, "logical")


def shift_right_arithmetic(x, y):
    """Shift amounts >= the bit width (or negative) fill with the sign bit."""
    return _shift(x, y, "arithmetic")


def population_count(x):
    dtype = np.asarray(x).dtype
    unsigned_dtype = np.dtype(f"uint{dtype.itemsize * 8}")
    counts = [bin(int(v)).count("1") for v in np.ravel(np.asarray(x).view(unsigned_dtype))]
    return np.array(counts, dtype=dtype).reshape(np.shape(x))


def clz(x):
    dtype = np.asarray(x).dtype
    bits = dtype.itemsize * 8
    unsigned_dtype = np.dtype(f"uint{bits}")
    counts = [bits - int(v).bit_length()
              for v in np.ravel(np.asarray(x).view(unsigned_dtype))]
    return np.array(counts, dtype=dtype).reshape(np.shape(x))


def round_away(x, rounding_method=0):
    """Round half away from zero (``rounding_method`` 1: half to even)."""
    if int(rounding_method) == 1:
        return np.rint(x)
    whole = np.trunc(x)
    frac = np.abs(x - whole)  # exact in floating point
    return np.where(frac >= 0.5, whole + np.sign(x), whole).astype(np.asarray(x).dtype)


def convert(x, new_dtype):
    """JAX's convert_element_type. Float -> int truncates toward zero and saturates at the
    integer range (NaN -> 0); -> bool is ``x != 0``; other conversions round to nearest
    (floats) or wrap (integers)."""
    x = np.asarray(x)
    new_dtype = np.dtype(new_dtype)
    if new_dtype == dtypes.bool_:
        return x != 0
    if dtypes.is_float(x.dtype) and dtypes.is_integer(new_dtype):
        info = np.iinfo(new_dtype)
        out = []
        for v in np.ravel(x.astype(np.float64)):
            if math.isnan(v):
                out.append(0)
            elif v <= info.min:
                out.append(info.min)
            elif v >= info.max:
                out.append(info.max)
            else:
                out.append(int(math.trunc(v)))
        return np.array(out, dtype=new_dtype).reshape(x.shape)
    if dtypes.is_integer(x.dtype) and dtypes.is_integer(new_dtype):
        return wrap(x.astype(object), new_dtype)
    if x.dtype == dtypes.bool_:
        return x.astype(new_dtype)
    if new_dtype == dtypes.bfloat16:
        # JAX (XLA) converts to bfloat16 through float32, rounding twice: observed for
        # float64 and for wide integers (e.g. 2**24 + 2**16 + 1 -> 2**24).
        with np.errstate(all="ignore"):
            return x.astype(np.float32).astype(new_dtype)
    with np.errstate(all="ignore"):
        return x.astype(new_dtype)


# ----------------------------------------------------------------------------
# Reductions, scans, sorting and windows.


def identity_of(op: str, dtype) -> np.ndarray:
    """The value a reduction over nothing gives (JAX's identities)."""
    dtype = np.dtype(dtype)
    if op == "sum":
        return np.zeros((), dtype)
    if op == "prod":
        return np.ones((), dtype)
    if op in ("max", "min"):
        low = op == "max"
        if dtype == dtypes.bool_:
            return np.array(not low)
        if dtypes.is_integer(dtype):
            info = np.iinfo(dtype)
            return np.array(info.min if low else info.max, dtype)
        return np.array(-np.inf if low else np.inf, dtype)
    if op == "and":
        return np.array(True) if dtype == dtypes.bool_ else np.array(-1).astype(dtype)
    return np.zeros((), dtype)  # or, xor


_UFUNCS = {
    "sum": np.add,
    "prod": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
}


def _accumulation_dtype(dtype):
    return np.float32 if _is_half(dtype) else dtype


def reduce(op: str):
    """``reduce_<op>(x, axes)`` with JAX's identities; integer sums and products wrap and
    half-precision floats accumulate in float32."""
    ufunc = _UFUNCS[op]

    def oracle(x, axes):
        x = np.asarray(x)
        wide = x.astype(_accumulation_dtype(x.dtype))
        initial = identity_of(op, wide.dtype)
        with np.errstate(all="ignore"):
            out = ufunc.reduce(wide, axis=tuple(axes), initial=initial)
        return np.asarray(out)

    return oracle


def cumulative(op: str):
    ufunc = _UFUNCS[op]

    def oracle(x, axis, reverse=False):
        x = np.asarray(x)
        wide = x.astype(_accumulation_dtype(x.dtype))
        if reverse:
            wide = np.flip(wide, axis)
        with np.errstate(all="ignore"):
            out = ufunc.accumulate(wide, axis=axis) if wide.size else wide
        return np.flip(out, axis) if reverse else out

    return oracle


def argreduce(kind: str):
    """The index of the first NaN, else of the first extreme value."""

    def oracle(x, axis, index_dtype):
        x = np.asarray(x)
        wide = x.astype(np.float32) if _is_half(x.dtype) else x
        fn = np.argmax if kind == "max" else np.argmin
        out = fn(wide, axis=axis)
        if dtypes.is_float(x.dtype):
            nans = np.isnan(wide)
            out = np.where(nans.any(axis=axis), np.argmax(nans, axis=axis), out)
        return np.asarray(out).astype(index_dtype)

    return oracle


def _sortable(x: np.ndarray) -> np.ndarray:
    """Keys numpy sorts in JAX's sort order: NaN last, -0.0 equal to +0.0."""
    if x.dtype == dtypes.bool_:
        return x.astype(np.uint8)
    if _is_half(x.dtype):
        return x.astype(np.float32)
    return x


def sort_operands(*operands, dimension, num_keys=1):
    """A stable lexicographic sort on the first ``num_keys`` operands."""
    axis = dimension % operands[0].ndim
    moved = [np.moveaxis(np.asarray(o), axis, -1) for o in operands]
    order = np.broadcast_to(np.arange(moved[0].shape[-1]), moved[0].shape)
    for key in reversed(moved[:num_keys]):
        keyed = np.take_along_axis(_sortable(key), order, -1)
        order = np.take_along_axis(order, np.argsort(keyed, axis=-1, kind="stable"), -1)
    out = [np.moveaxis(np.take_along_axis(o, order, -1), -1, axis) for o in moved]
    return tuple(out)


def top_k(x, k):
    """Largest ``k`` along the last axis: NaN above everything, +0.0 above -0.0, ties by
    the lower index first. Returns (values, int32 indices)."""
    x = np.asarray(x)
    if dtypes.is_float(x.dtype):
        bits = x.dtype.itemsize * 8
        signed = x.view(np.dtype(f"int{bits}")).astype(np.int64)
        magnitude = signed & np.int64((1 << (bits - 1)) - 1)
        key = np.where(signed < 0, -magnitude - 1, magnitude)
        key = np.where(np.isnan(x), np.iinfo(np.int64).max, key)
    elif x.dtype == dtypes.bool_:
        key = x.astype(np.int64)
    elif x.dtype == np.uint64:
        key = (x ^ np.uint64(1 << 63)).view(np.int64)  # order-preserving shift to signed
    else:
        key = x.astype(np.int64)
    # Descending by key, ascending by index: sort ascending on the complemented key.
    order = np.argsort(~key, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, -1), order.astype(np.int32)


def reduce_window(op: str):
    """``reduce_window_<op>`` from its definition: dilate, pad with the identity, then
    reduce every window."""
    ufunc = _UFUNCS[op]

    def oracle(x, window_dimensions, window_strides=None, padding="VALID", base_dilation=None,
               window_dilation=None):
        x = np.asarray(x)
        wide = x.astype(_accumulation_dtype(x.dtype))
        nd = x.ndim
        strides = tuple(window_strides or (1,) * nd)
        base = tuple(base_dilation or (1,) * nd)
        wdil = tuple(window_dilation or (1,) * nd)
        identity = identity_of(op, wide.dtype)
        dilated_shape = tuple((n - 1) * b + 1 if n else 0 for n, b in zip(x.shape, base))
        dilated = np.full(dilated_shape, identity, dtype=wide.dtype)
        dilated[tuple(slice(None, None, b) for b in base)] = wide
        effective = tuple((w - 1) * d + 1 for w, d in zip(window_dimensions, wdil))
        if isinstance(padding, str):
            pads = _named_padding(x.shape, effective, strides, padding)
        else:
            pads = tuple(tuple(p) for p in padding)
        padded = np.pad(dilated, pads, constant_values=identity)
        out_shape = tuple(max((n - e) // s + 1, 0) if n >= e else 0
                          for n, e, s in zip(padded.shape, effective, strides))
        out = np.full(out_shape, identity, dtype=wide.dtype)
        for offsets in np.ndindex(*window_dimensions):
            starts = [o * d for o, d in zip(offsets, wdil)]
            index = tuple(slice(st, st + (m - 1) * s + 1, s) if m else slice(0, 0)
                          for st, m, s in zip(starts, out_shape, strides))
            with np.errstate(all="ignore"):
                out = ufunc(out, padded[index])
        return out

    return oracle


def _named_padding(shape, window, strides, padding: str):
    """JAX's "SAME" / "VALID" padding for an (undilated) operand shape."""
    if padding == "VALID":
        return tuple((0, 0) for _ in shape)
    pads = []
    for n, w, s in zip(shape, window, strides):
        out = -(-n // s)
        total = max((out - 1) * s + w - n, 0)
        low = total // 2 if padding == "SAME" else total - total // 2
        pads.append((low, total - low))
    return tuple(pads)


# ----------------------------------------------------------------------------
# Contractions.


def _contraction_dtype(*arrays, preferred=None):
    """Floats accumulate in at least float32; integers in 64 bits (results wrap)."""
    dts = [np.asarray(a).dtype for a in arrays]
    if any(dtypes.is_float(d) for d in dts):
        return np.float64 if any(d == np.float64 for d in dts) else np.float32
    if all(d == dtypes.bool_ for d in dts):
        return np.int64
    return np.uint64 if any(d == np.uint64 for d in dts) else np.int64


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """Batch dimensions first, then lhs free dimensions, then rhs free dimensions."""
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    acc = _contraction_dtype(lhs, rhs)
    lf = [d for d in range(lhs.ndim) if d not in lc and d not in lb]
    rf = [d for d in range(rhs.ndim) if d not in rc and d not in rb]
    a = np.transpose(lhs, list(lb) + lf + list(lc)).astype(acc)
    b = np.transpose(rhs, list(rb) + list(rc) + rf).astype(acc)
    batch = [lhs.shape[d] for d in lb]
    m = [lhs.shape[d] for d in lf]
    n = [rhs.shape[d] for d in rf]
    k = int(np.prod([lhs.shape[d] for d in lc], dtype=np.int64))
    bsz = int(np.prod(batch, dtype=np.int64))
    msz = int(np.prod(m, dtype=np.int64))
    nsz = int(np.prod(n, dtype=np.int64))
    with np.errstate(all="ignore"):
        out = np.matmul(a.reshape(bsz, msz, k), b.reshape(bsz, k, nsz))
    return out.reshape(batch + m + n)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None):
    """Cross-correlation from its definition (no kernel flip), any layout."""
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    nsp = lhs.ndim - 2
    lhs_spec, rhs_spec, out_spec = _conv_specs(dimension_numbers, lhs.ndim)
    x = np.transpose(lhs, lhs_spec).astype(_contraction_dtype(lhs, rhs))
    w = np.transpose(rhs, rhs_spec).astype(x.dtype)
    strides = tuple(window_strides)
    ldil = tuple(lhs_dilation or (1,) * nsp)
    rdil = tuple(rhs_dilation or (1,) * nsp)
    kernel = w.shape[2:]
    effective = tuple((k - 1) * d + 1 for k, d in zip(kernel, rdil))
    if isinstance(padding, str):
        pads = _named_padding(x.shape[2:], effective, strides, padding)
    else:
        pads = tuple(tuple(p) for p in padding)
    # Dilate the input (zeros between elements), then pad (negative pads crop).
    dil_shape = x.shape[:2] + tuple((s - 1) * d + 1 if s else 0
                                    for s, d in zip(x.shape[2:], ldil))
    dilated = np.zeros(dil_shape, x.dtype)
    dilated[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in ldil)] = x
    grow = [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    padded = np.pad(dilated, grow)
    crop = (slice(None), slice(None)) + tuple(
        slice(max(-lo, 0), padded.shape[2 + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
    padded = padded[crop]
    out_sp = tuple(max((p - e) // s + 1, 0) if p >= e else 0
                   for p, e, s in zip(padded.shape[2:], effective, strides))
    n, c = x.shape[:2]
    o = w.shape[0]
    bg, fg = batch_group_count, feature_group_count
    out_n = n // bg
    out = np.zeros((out_n, o) + out_sp, x.dtype)
    per_fg_in = c // fg
    per_fg_out = o // fg
    per_bg_out = o // bg
    for offsets in np.ndindex(*kernel):
        index = tuple(slice(off * d, off * d + (m - 1) * s + 1, s) if m else slice(0, 0)
                      for off, d, m, s in zip(offsets, rdil, out_sp, strides))
        window = padded[(slice(None), slice(None)) + index]  # (n, c, *out_sp)
        taps = w[(slice(None), slice(None)) + offsets]  # (o, c / fg)
        for oc in range(o):
            g = oc // per_fg_out
            b = oc // per_bg_out
            chans = window[b * out_n:(b + 1) * out_n, g * per_fg_in:(g + 1) * per_fg_in]
            with np.errstate(all="ignore"):
                out[:, oc] += np.tensordot(taps[oc], chans, axes=([0], [1]))
    inverse = np.argsort(out_spec)
    return np.transpose(out, inverse)


def _conv_specs(dimension_numbers, ndim: int):
    """(lhs, rhs, out) axis orders as (batch/out-feature, feature/in-feature, spatial...)."""
    if dimension_numbers is None:
        default = tuple(range(ndim))
        return default, default, default
    if all(isinstance(s, str) for s in dimension_numbers):
        lhs_s, rhs_s, out_s = dimension_numbers
        spatial = [ch for ch in lhs_s if ch not in "NC"]
        rhs_spatial = [ch for ch in rhs_s if ch not in "OI"]
        out_spatial = [ch for ch in out_s if ch not in "NC"]
        return (tuple(lhs_s.index(ch) for ch in ["N", "C", *spatial]),
                tuple(rhs_s.index(ch) for ch in ["O", "I", *rhs_spatial]),
                tuple(out_s.index(ch) for ch in ["N", "C", *out_spatial]))
    return tuple(tuple(s) for s in dimension_numbers)
