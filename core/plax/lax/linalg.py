"""Contractions: ``dot_general`` and its conveniences ``dot`` and ``batch_matmul``.

``dot_general`` contracts the paired contracting dimensions of ``lhs`` and
``rhs`` and runs the paired batch dimensions in lockstep. The result holds the
batch dimensions first, then the free dimensions of ``lhs``, then those of
``rhs`` (XLA's DotGeneral layout).

The numpy reference accumulates floats in at least float32 (float16 and
bfloat16 products are summed in float32 and rounded once, as XLA does on CPU)
and integers in 64 bits, so integer results wrap modulo the result width.
The helpers at the top are shared with ``lax.convolution``.
"""

from __future__ import annotations

import enum
import operator

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.jvp import bilinear_jvp, jvp_rules
from plax.interpreters.transpose import is_undefined_primal, nonlinear_error, transpose_rules
from plax.interpreters.reference import impl_rules

__all__ = ["Precision", "batch_matmul", "dot", "dot_general"]


# ----------------------------------------------------------------------------
# Shared by dot_general and conv_general_dilated.


class Precision(enum.Enum):
    """Requested accuracy of a contraction on backends with reduced-precision units.

    The reference backend always computes at full precision; the parameter is a
    hint recorded in the jaxpr for backends that can trade accuracy for speed.
    """

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    def __repr__(self) -> str:
        return f"Precision.{self.name}"

    __str__ = __repr__


# JAX's spellings of each precision level.
_PRECISION_NAMES = {
    "default": Precision.DEFAULT,
    "fastest": Precision.DEFAULT,
    "bfloat16": Precision.DEFAULT,
    "high": Precision.HIGH,
    "bfloat16_3x": Precision.HIGH,
    "tensorfloat32": Precision.HIGH,
    "highest": Precision.HIGHEST,
    "float32": Precision.HIGHEST,
}


def _one_precision(value, name: str) -> Precision:
    if isinstance(value, Precision):
        return value
    if isinstance(value, str) and value.lower() in _PRECISION_NAMES:
        return _PRECISION_NAMES[value.lower()]
    raise ValueError(
        f"lax.{name}: precision must be None, a lax.Precision, one of the strings "
        f"{sorted(_PRECISION_NAMES)}, or a pair of these (one for lhs, one for rhs); "
        f"got {value!r}"
    )


def canonicalize_precision(precision, name: str):
    """None, or a (lhs, rhs) pair of ``Precision`` values (hashable, for params)."""
    if precision is None:
        return None
    if isinstance(precision, (tuple, list)):
        if len(precision) != 2:
            raise ValueError(
                f"lax.{name}: a precision pair must have two entries (lhs, rhs), got {precision!r}"
            )
        if precision[0] is None and precision[1] is None:
            return None
        return (_one_precision(precision[0], name), _one_precision(precision[1], name))
    one = _one_precision(precision, name)
    return (one, one)


def canonicalize_preferred(preferred_element_type, name: str):
    if preferred_element_type is None:
        return None
    try:
        return dtypes.canonicalize_dtype(preferred_element_type)
    except TypeError as err:
        raise TypeError(f"lax.{name}: invalid preferred_element_type: {err}") from None


def accumulation_dtype(in_dtypes, out_dtype: np.dtype) -> np.dtype:
    """The numpy dtype the reference sums products in.

    Floats: float32 at least (XLA on CPU accumulates float16/bfloat16 in float32
    and rounds the sum once). Integers and bools: 64 bits, whose wrap-around
    reduced modulo the result width equals the result type's own wrap-around.
    """
    all_dtypes = tuple(in_dtypes) + (out_dtype,)
    float_result = dtypes.is_float(out_dtype) or any(dtypes.is_float(d) for d in in_dtypes)
    if float_result and any(d == dtypes.float64 for d in all_dtypes):
        return dtypes.float64
    if any(dtypes.is_float(d) for d in all_dtypes):
        return dtypes.float32
    return dtypes.int64


def to_accumulation(x: np.ndarray, acc: np.dtype) -> np.ndarray:
    # uint64 -> int64 reinterprets modulo 2**64, which is what wrap-around needs.
    return np.asarray(x).astype(acc, copy=False)


def from_accumulation(x: np.ndarray, out_dtype: np.dtype) -> np.ndarray:
    if out_dtype == dtypes.bool_:
        return x != 0
    if dtypes.is_integer(out_dtype) and dtypes.is_float(x.dtype):
        # Float products summed into an integer type truncate toward zero.
        return np.trunc(np.nan_to_num(x)).astype(out_dtype)
    return x.astype(out_dtype)


# -- dot_general ------------------------------------------------------------------
def _type_rank(dt: np.dtype) -> tuple:
    """XLA's "higher precision type" order: range, then mantissa, width, signedness."""
    if dtypes.is_float(dt):
        info = dtypes.finfo(dt)
        return (info.maxexp, info.nmant, dtypes.itemsize_bits(dt), True)
    bits = 1 if dt == dtypes.bool_ else dtypes.itemsize_bits(dt)
    return (-1, -1, bits, not dtypes.is_unsigned(dt))


def _dot_result_dtype(lhs_dtype, rhs_dtype, preferred, name: str = "dot_general"):
    """JAX's rule: operands may differ; the result is the one of higher precision."""
    lhs_rank = _type_rank(lhs_dtype)
    rhs_rank = _type_rank(rhs_dtype)
    if lhs_rank > rhs_rank:
        result = lhs_dtype
    elif rhs_rank > lhs_rank:
        result = rhs_dtype
    elif lhs_dtype != rhs_dtype:
        raise TypeError(
            f"lax.{name}: cannot combine operand dtypes {lhs_dtype.name} and "
            f"{rhs_dtype.name}; convert one with lax.convert_element_type"
        )
    else:
        result = lhs_dtype
    if preferred is None or preferred == result:
        return result
    if not dtypes.is_float(result):
        preferred_bits = 1 if preferred == dtypes.bool_ else dtypes.itemsize_bits(preferred)
        result_bits = 1 if result == dtypes.bool_ else dtypes.itemsize_bits(result)
        if preferred_bits < result_bits:
            raise TypeError(
                f"lax.{name}: preferred_element_type {preferred.name} must not be narrower "
                f"than the operands' result type {result.name}"
            )
    return preferred


def _check_dims(name, side, dims, ndim, shapes):
    for d in dims:
        if not 0 <= d < ndim:
            raise TypeError(
                f"lax.{name}: dimension numbers must be non-negative and less than the "
                f"rank of {side}; got {side} dimension {d} for {side} of rank {ndim} "
                f"(lhs shape {shapes[0]}, rhs shape {shapes[1]})"
            )


def _check_distinct(name, what, dims, shapes):
    if len(set(dims)) != len(dims):
        raise TypeError(
            f"lax.{name}: {what} dimensions must be distinct, got {what} {dims} "
            f"(lhs shape {shapes[0]}, rhs shape {shapes[1]})"
        )


def _dot_general_shape(lhs, rhs, dimension_numbers, name="dot_general"):
    (lc, rc), (lb, rb) = dimension_numbers
    shapes = (lhs.shape, rhs.shape)
    for side, aval, dims in (("lhs", lhs, lc + lb), ("rhs", rhs, rc + rb)):
        _check_dims(name, side, dims, aval.ndim, shapes)
    if len(lb) != len(rb):
        raise TypeError(
            f"lax.{name}: lhs and rhs need equally many batch dimensions, got "
            f"lhs_batch {lb} and rhs_batch {rb} (lhs shape {lhs.shape}, rhs shape {rhs.shape})"
        )
    if len(lc) != len(rc):
        raise TypeError(
            f"lax.{name}: lhs and rhs need equally many contracting dimensions, got "
            f"lhs_contracting {lc} and rhs_contracting {rc} "
            f"(lhs shape {lhs.shape}, rhs shape {rhs.shape})"
        )
    for what, dims in (
        ("lhs_batch", lb),
        ("rhs_batch", rb),
        ("lhs_contracting", lc),
        ("rhs_contracting", rc),
    ):
        _check_distinct(name, what, dims, shapes)
    for side, batch, contract in (("lhs", lb, lc), ("rhs", rb, rc)):
        if set(batch) & set(contract):
            raise TypeError(
                f"lax.{name}: {side} batch dimensions {batch} and contracting dimensions "
                f"{contract} must be disjoint (lhs shape {lhs.shape}, rhs shape {rhs.shape})"
            )
    for what, ldims, rdims in (("batch", lb, rb), ("contracting", lc, rc)):
        lsizes = tuple(lhs.shape[d] for d in ldims)
        rsizes = tuple(rhs.shape[d] for d in rdims)
        if lsizes != rsizes:
            raise TypeError(
                f"lax.{name}: {what} dimensions must have the same sizes, got lhs_{what} "
                f"{ldims} of sizes {lsizes} and rhs_{what} {rdims} of sizes {rsizes} "
                f"(lhs shape {lhs.shape}, rhs shape {rhs.shape})"
            )
    lhs_free = [lhs.shape[d] for d in range(lhs.ndim) if d not in lc and d not in lb]
    rhs_free = [rhs.shape[d] for d in range(rhs.ndim) if d not in rc and d not in rb]
    batch = [lhs.shape[d] for d in lb]
    return tuple(batch + lhs_free + rhs_free)


def _dot_general_rule(
    lhs: ShapedArray, rhs: ShapedArray, *, dimension_numbers, precision, preferred_element_type
):
    shape = _dot_general_shape(lhs, rhs, dimension_numbers)
    dtype = _dot_result_dtype(lhs.dtype, rhs.dtype, preferred_element_type)
    return [ShapedArray(shape, dtype, lhs.weak_type and rhs.weak_type)]


def batched_matmul_views(lhs: np.ndarray, rhs: np.ndarray, dimension_numbers):
    """``dot_general``'s operands as one batched matrix product, [batch, M, K] @
    [batch, K, N] (transposes and reshapes, which copy only where the layout needs
    it), and the shape of the result. Backends computing with numpy use it too."""
    (lc, rc), (lb, rb) = dimension_numbers
    lhs_free = [d for d in range(lhs.ndim) if d not in lc and d not in lb]
    rhs_free = [d for d in range(rhs.ndim) if d not in rc and d not in rb]

    def size(shape, dims):
        return int(np.prod([shape[d] for d in dims], dtype=np.int64))

    b = size(lhs.shape, lb)
    m = size(lhs.shape, lhs_free)
    k = size(lhs.shape, lc)
    n = size(rhs.shape, rhs_free)
    a = np.transpose(lhs, tuple(lb) + tuple(lhs_free) + tuple(lc)).reshape(b, m, k)
    c = np.transpose(rhs, tuple(rb) + tuple(rc) + tuple(rhs_free)).reshape(b, k, n)
    out_shape = (
        tuple(lhs.shape[d] for d in lb)
        + tuple(lhs.shape[d] for d in lhs_free)
        + tuple(rhs.shape[d] for d in rhs_free)
    )
    return a, c, out_shape


def _dot_general_impl(lhs, rhs, *, dimension_numbers, precision, preferred_element_type):
    lhs = np.asarray(lhs)
    rhs = np.asarray(rhs)
    out_dtype = _dot_result_dtype(lhs.dtype, rhs.dtype, preferred_element_type)
    acc = accumulation_dtype((lhs.dtype, rhs.dtype), out_dtype)
    a, c, out_shape = batched_matmul_views(lhs, rhs, dimension_numbers)
    out = np.matmul(to_accumulation(a, acc), to_accumulation(c, acc))
    return [from_accumulation(out.reshape(out_shape), out_dtype)]


def _dot_general_batch(args, dims, *, dimension_numbers, **params):
    """No loop over examples: a batch axis on both sides becomes one more batch dimension
    of the contraction (the result's first axis); on one side it is a free dimension."""
    (lhs, rhs), (lhs_bdim, rhs_bdim) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    if lhs_bdim is not batching.not_mapped:
        lc, lb = batching.shift_axes(lc, lhs_bdim), batching.shift_axes(lb, lhs_bdim)
    if rhs_bdim is not batching.not_mapped:
        rc, rb = batching.shift_axes(rc, rhs_bdim), batching.shift_axes(rb, rhs_bdim)
    lhs_ndim = core.get_aval(lhs).ndim
    rhs_ndim = core.get_aval(rhs).ndim
    if lhs_bdim is not batching.not_mapped and rhs_bdim is not batching.not_mapped:
        lb, rb = (lhs_bdim,) + lb, (rhs_bdim,) + rb
        out_bdim = 0
    elif lhs_bdim is not batching.not_mapped:
        lhs_free = [d for d in range(lhs_ndim) if d not in lc and d not in lb]
        out_bdim = len(lb) + lhs_free.index(lhs_bdim)
    else:
        rhs_free = [d for d in range(rhs_ndim) if d not in rc and d not in rb]
        lhs_free_count = lhs_ndim - len(lc) - len(lb)
        out_bdim = len(rb) + lhs_free_count + rhs_free.index(rhs_bdim)
    out = dot_general_p.bind(lhs, rhs, dimension_numbers=((lc, rc), (lb, rb)), **params)
    return [out], [out_bdim]


def _dot_lhs_cotangent(ct, x_aval, y, dimension_numbers, precision, rhs_result_first: bool):
    """The cotangent of the lhs ``x`` of ``dot_general(x, y)`` (or of the rhs, with the
    operands swapped and ``rhs_result_first``: the result then lists y's free axes
    before x's). It contracts ``ct`` with ``y`` over y's free axes, then permutes."""
    from plax.lax.convert import convert_element_type
    from plax.lax.shapes import transpose

    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    x_ndim, y_ndim = x_aval.ndim, core.get_aval(y).ndim
    x_free = [d for d in range(x_ndim) if d not in x_contract and d not in x_batch]
    y_free = [d for d in range(y_ndim) if d not in y_contract and d not in y_batch]
    nb = len(x_batch)
    if rhs_result_first:
        ct_y_free = list(range(nb, nb + len(y_free)))
    else:
        ct_y_free = list(range(nb + len(x_free), nb + len(x_free) + len(y_free)))
    dims = ((tuple(ct_y_free), tuple(y_free)), (tuple(range(nb)), tuple(y_batch)))
    raw = dot_general_p.bind(ct, y, dimension_numbers=dims, precision=precision,
                             preferred_element_type=None)
    # raw holds: batch, x's free axes, then y's contracting axes in increasing order,
    # each standing for the x axis it was paired with.
    paired = [x_contract[i] for i in np.argsort(y_contract)]
    order = list(x_batch) + x_free + paired
    out = transpose(raw, tuple(np.argsort(order).tolist()))
    if core.get_aval(out).dtype != x_aval.dtype:
        out = convert_element_type(out, x_aval.dtype)
    return out


def _dot_general_transpose(cts, x, y, *, dimension_numbers, precision, preferred_element_type):
    (ct,) = cts
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    if is_undefined_primal(x) and is_undefined_primal(y):
        raise nonlinear_error("dot_general")
    if is_undefined_primal(x):
        return [_dot_lhs_cotangent(ct, x.aval, y, dimension_numbers, precision, False), None]
    swapped = ((y_contract, x_contract), (y_batch, x_batch))
    return [None, _dot_lhs_cotangent(ct, y.aval, x, swapped, precision, True)]


dot_general_p = core.Primitive("dot_general")
core.abstract_eval_rules[dot_general_p] = _dot_general_rule
impl_rules[dot_general_p] = _dot_general_impl
jvp_rules[dot_general_p] = bilinear_jvp(dot_general_p)
transpose_rules[dot_general_p] = _dot_general_transpose
batching.batch_rules[dot_general_p] = _dot_general_batch


def _dims_tuple(value, what: str) -> tuple[int, ...]:
    if isinstance(value, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            value, f"lax.dot_general: {what} must be static integers, not a traced value."
        )
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(
            f"lax.dot_general: {what} must be a sequence of integers, got {value!r}"
        ) from None
    out = []
    for d in items:
        if isinstance(d, (bool, np.bool_)):
            raise TypeError(f"lax.dot_general: {what} must contain integers, got {value!r}")
        try:
            out.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"lax.dot_general: {what} must contain integers, got {d!r} in {value!r}"
            ) from None
    return tuple(out)


def canonicalize_dot_dimension_numbers(dimension_numbers):
    """((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch)) as tuples of ints."""
    form = "((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))"
    try:
        contracting, batch = dimension_numbers
        lc, rc = contracting
        lb, rb = batch
    except (TypeError, ValueError):
        raise TypeError(
            f"lax.dot_general: dimension_numbers must have the form {form}, "
            f"got {dimension_numbers!r}"
        ) from None
    return (
        (_dims_tuple(lc, "lhs_contracting"), _dims_tuple(rc, "rhs_contracting")),
        (_dims_tuple(lb, "lhs_batch"), _dims_tuple(rb, "rhs_batch")),
    )


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """General contraction.

    ``dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``.
    The result has the batch dimensions, then ``lhs``'s free dimensions, then
    ``rhs``'s free dimensions. Operand dtypes may differ (the more precise one
    wins, as in JAX); ``preferred_element_type`` sets the result dtype.
    """
    return dot_general_p.bind(
        lhs,
        rhs,
        dimension_numbers=canonicalize_dot_dimension_numbers(dimension_numbers),
        precision=canonicalize_precision(precision, "dot_general"),
        preferred_element_type=canonicalize_preferred(preferred_element_type, "dot_general"),
    )


def dot(lhs, rhs, precision=None, preferred_element_type=None, *, dimension_numbers=None):
    """Vector/matrix products: ``lhs`` and ``rhs`` of rank 1 or 2, contracting the last
    dimension of ``lhs`` with the first of ``rhs``. With ``dimension_numbers`` it is
    ``dot_general``."""
    if dimension_numbers is None:
        lhs_shape = core.get_aval(lhs).shape
        rhs_shape = core.get_aval(rhs).shape
        if not (1 <= len(lhs_shape) <= 2 and 1 <= len(rhs_shape) <= 2):
            raise ValueError(
                "lax.dot handles only matrix-matrix, matrix-vector and vector-vector products "
                f"(operands of rank 1 or 2), got lhs shape {lhs_shape} and rhs shape "
                f"{rhs_shape}; use lax.dot_general with dimension_numbers for other ranks"
            )
        if lhs_shape[-1] != rhs_shape[0]:
            raise TypeError(
                f"lax.dot: incompatible shapes {lhs_shape} and {rhs_shape}: the last "
                f"dimension of lhs ({lhs_shape[-1]}) must equal the first dimension of rhs "
                f"({rhs_shape[0]})"
            )
        dimension_numbers = (((len(lhs_shape) - 1,), (0,)), ((), ()))
    return dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    """Matrix products over the leading (batch) dimensions: ``[..., m, k] @ [..., k, n]``."""
    lhs_shape = core.get_aval(lhs).shape
    rhs_shape = core.get_aval(rhs).shape
    if min(len(lhs_shape), len(rhs_shape)) < 2:
        raise ValueError(
            f"lax.batch_matmul: operands must be at least 2-D, got shapes {lhs_shape} "
            f"and {rhs_shape}"
        )
    if len(lhs_shape) != len(rhs_shape):
        raise ValueError(
            f"lax.batch_matmul: operands must have the same rank, got shapes {lhs_shape} "
            f"and {rhs_shape}"
        )
    ndim = len(lhs_shape)
    batch = tuple(range(ndim - 2))
    dimension_numbers = (((ndim - 1,), (ndim - 2,)), (batch, batch))
    return dot_general(lhs, rhs, dimension_numbers, precision=precision)
