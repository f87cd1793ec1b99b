"""Products and convolutions: matmul, dot, vdot, inner, outer, tensordot, kron,
convolve, correlate. All contractions go through ``lax.dot_general``; the
convolutions through ``lax.conv_general_dilated``."""

from __future__ import annotations

import numpy as np

from plax import lax
from plax.numpy.creation import asarray
from plax.numpy.promotion import (
    broadcast_shapes,
    check_arraylike,
    promote_dtypes,
    promote_dtypes_inexact,
)
from plax.numpy.util import ndim_of, normalize_axis, shape_of, static_int

__all__ = [
    "matmul", "dot", "vdot", "vecdot", "inner", "outer", "tensordot", "kron", "convolve",
    "correlate",
]


def _operands(name: str, a, b):
    check_arraylike(name, a, b)
    a, b = promote_dtypes(asarray(a), asarray(b))
    return a, b


def _dot_general(a, b, contracting, batch, precision, preferred_element_type):
    return lax.dot_general(a, b, (contracting, batch), precision=precision,
                           preferred_element_type=preferred_element_type)


def _check_contracting(name: str, a_shape, b_shape, a_dims, b_dims) -> None:
    a_sizes = tuple(a_shape[d] for d in a_dims)
    b_sizes = tuple(b_shape[d] for d in b_dims)
    if a_sizes != b_sizes:
        raise ValueError(
            f"{name}: contracting dimensions must have the same sizes, got {a_sizes} and "
            f"{b_sizes} (operand shapes {a_shape} and {b_shape})"
        )


# -- matmul ------------------------------------------------------------------------
def matmul(a, b, *, precision=None, preferred_element_type=None):
    """numpy's ``@``: 1-D operands are promoted to matrices and their axis removed again;
    leading (batch) dimensions broadcast."""
    a, b = _operands("matmul", a, b)
    for position, x in enumerate((a, b)):
        if ndim_of(x) == 0:
            raise ValueError(f"matmul input operand {position} must have ndim at least 1, "
                             "but it has ndim 0")
    a_vector = ndim_of(a) == 1
    b_vector = ndim_of(b) == 1
    if a_vector:
        a = lax.reshape(a, (1,) + shape_of(a))
    if b_vector:
        b = lax.reshape(b, shape_of(b) + (1,))
    a_shape, b_shape = shape_of(a), shape_of(b)
    _check_contracting("matmul", a_shape, b_shape, (len(a_shape) - 1,), (len(b_shape) - 2,))
    a_batch, b_batch = a_shape[:-2], b_shape[:-2]
    if not b_batch:
        # (..., m, k) @ (k, n): a plain contraction keeps a's batch dimensions in front.
        out = _dot_general(a, b, ((len(a_shape) - 1,), (0,)), ((), ()), precision,
                           preferred_element_type)
    elif not a_batch:
        # (m, k) @ (..., k, n) gives (m, ..., n); move m behind the batch dimensions.
        out = _dot_general(a, b, ((1,), (len(b_shape) - 2,)), ((), ()), precision,
                           preferred_element_type)
        nb = len(b_batch)
        out = lax.transpose(out, tuple(range(1, nb + 1)) + (0, nb + 1))
    else:
        batch = broadcast_shapes(a_batch, b_batch, name="matmul")
        a = lax.broadcast_in_dim(a, batch + a_shape[-2:],
                                 tuple(range(len(batch) - len(a_batch), len(batch) + 2)))
        b = lax.broadcast_in_dim(b, batch + b_shape[-2:],
                                 tuple(range(len(batch) - len(b_batch), len(batch) + 2)))
        nb = len(batch)
        out = _dot_general(a, b, ((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))),
                           precision, preferred_element_type)
    out_shape = shape_of(out)
    if a_vector:
        out_shape = out_shape[:-2] + out_shape[-1:]
    if b_vector:
        out_shape = out_shape[:-1]
    return lax.reshape(out, out_shape) if out_shape != shape_of(out) else out


# -- dot / vdot / inner / outer ----------------------------------------------------
def dot(a, b, *, precision=None, preferred_element_type=None):
    """numpy's dot: scalars multiply; otherwise contract a's last axis with b's
    second-to-last (its only axis when b is 1-D)."""
    a, b = _operands("dot", a, b)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        from plax.numpy.ufuncs import multiply

        return multiply(a, b)
    a_axis = ndim_of(a) - 1
    b_axis = 0 if ndim_of(b) == 1 else ndim_of(b) - 2
    _check_contracting("dot", shape_of(a), shape_of(b), (a_axis,), (b_axis,))
    return _dot_general(a, b, ((a_axis,), (b_axis,)), ((), ()), precision,
                        preferred_element_type)


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened arrays."""
    a, b = _operands("vdot", a, b)
    a = lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),))
    b = lax.reshape(b, (int(np.prod(shape_of(b), dtype=np.int64)),))
    return dot(a, b, precision=precision, preferred_element_type=preferred_element_type)


def vecdot(x1, x2, /, *, axis: int = -1, precision=None, preferred_element_type=None):
    """Dot products of vectors along ``axis`` (the other axes broadcast)."""
    from plax.numpy.manipulation import broadcast_arrays, moveaxis
    from plax.numpy.reductions import sum as sum_
    from plax.numpy.ufuncs import multiply

    x1, x2 = _operands("vecdot", x1, x2)
    x1, x2 = broadcast_arrays(x1, x2)
    axis = normalize_axis(axis, ndim_of(x1), "vecdot")
    return sum_(multiply(moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)), axis=-1)


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Contract the last axes of both (scalars multiply)."""
    a, b = _operands("inner", a, b)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        from plax.numpy.ufuncs import multiply

        return multiply(a, b)
    a_axis, b_axis = ndim_of(a) - 1, ndim_of(b) - 1
    _check_contracting("inner", shape_of(a), shape_of(b), (a_axis,), (b_axis,))
    return _dot_general(a, b, ((a_axis,), (b_axis,)), ((), ()), precision,
                        preferred_element_type)


def outer(a, b, out=None):
    """``outer(a, b)[i, j] = a.ravel()[i] * b.ravel()[j]``."""
    if out is not None:
        raise NotImplementedError("outer: the 'out' argument is not supported")
    from plax.numpy.ufuncs import multiply

    a, b = _operands("outer", a, b)
    n = int(np.prod(shape_of(a), dtype=np.int64))
    m = int(np.prod(shape_of(b), dtype=np.int64))
    return multiply(lax.reshape(a, (n, 1)), lax.reshape(b, (1, m)))


def kron(a, b):
    """Kronecker product: blocks ``a[i, j] * b``."""
    from plax.numpy.ufuncs import multiply

    a, b = _operands("kron", a, b)
    ndim = max(ndim_of(a), ndim_of(b))
    a = lax.reshape(a, (1,) * (ndim - ndim_of(a)) + shape_of(a))
    b = lax.reshape(b, (1,) * (ndim - ndim_of(b)) + shape_of(b))
    sa, sb = shape_of(a), shape_of(b)
    # Interleave: a -> (a0, 1, a1, 1, ...), b -> (1, b0, 1, b1, ...), multiply, merge pairs.
    a = lax.reshape(a, tuple(x for d in sa for x in (d, 1)))
    b = lax.reshape(b, tuple(x for d in sb for x in (1, d)))
    product = multiply(a, b)
    return lax.reshape(product, tuple(x * y for x, y in zip(sa, sb)))


# -- tensordot ---------------------------------------------------------------------
def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Contract ``axes`` (an int N: a's last N with b's first N; or a pair of axis lists)."""
    a, b = _operands("tensordot", a, b)
    na, nb = ndim_of(a), ndim_of(b)
    if isinstance(axes, (int, np.integer)):
        n = static_int(axes, "tensordot: axes")
        if n < 0 or n > min(na, nb):
            raise ValueError(f"tensordot: axes={n} must be between 0 and min(a.ndim, b.ndim) "
                             f"= {min(na, nb)}")
        a_axes = tuple(range(na - n, na))
        b_axes = tuple(range(n))
    else:
        try:
            a_axes, b_axes = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of axis sequences, got "
                            f"{axes!r}") from None
        a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
        b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
        if len(a_axes) != len(b_axes):
            raise ValueError(f"tensordot: axes lists must have the same length, got {a_axes} "
                             f"and {b_axes}")
        a_axes = tuple(normalize_axis(x, na, "tensordot") for x in a_axes)
        b_axes = tuple(normalize_axis(x, nb, "tensordot") for x in b_axes)
    _check_contracting("tensordot", shape_of(a), shape_of(b), a_axes, b_axes)
    return _dot_general(a, b, (a_axes, b_axes), ((), ()), precision, preferred_element_type)


# -- convolve / correlate ----------------------------------------------------------
def _padding(mode: str, n_v: int, name: str):
    pads = {
        "full": (n_v - 1, n_v - 1),
        "same": (n_v // 2, n_v - n_v // 2 - 1),
        "valid": (0, 0),
    }
    if mode not in pads:
        raise ValueError(f"{name}: mode must be 'full', 'same' or 'valid', got {mode!r}")
    return pads[mode]


def _correlate_1d(name: str, a, v, mode: str, flip_kernel: bool, precision,
                  preferred_element_type):
    check_arraylike(name, a, v)
    a, v = promote_dtypes_inexact(asarray(a), asarray(v))
    if ndim_of(a) != 1 or ndim_of(v) != 1:
        raise ValueError(f"{name}: only 1-D inputs are supported, got shapes {shape_of(a)} and "
                         f"{shape_of(v)}")
    if shape_of(a)[0] == 0 or shape_of(v)[0] == 0:
        raise ValueError(f"{name}: inputs cannot be empty, got shapes {shape_of(a)} and "
                         f"{shape_of(v)}")
    # numpy swaps the inputs when the second is longer; correlation then reverses.
    swapped = shape_of(v)[0] > shape_of(a)[0]
    if swapped:
        a, v = v, a
    if flip_kernel:
        v = lax.rev(v, (0,))
    pads = _padding(mode, shape_of(v)[0], name)
    out = lax.conv_general_dilated(
        lax.reshape(a, (1, 1) + shape_of(a)),
        lax.reshape(v, (1, 1) + shape_of(v)),
        window_strides=(1,),
        padding=(pads,),
        precision=precision,
        preferred_element_type=preferred_element_type,
    )
    out = lax.reshape(out, shape_of(out)[2:])
    if swapped and not flip_kernel:
        out = lax.rev(out, (0,))
    return out


def convolve(a, v, mode: str = "full", *, precision=None, preferred_element_type=None):
    """Discrete linear convolution of two 1-D arrays (numpy semantics, float results)."""
    return _correlate_1d("convolve", a, v, mode, True, precision, preferred_element_type)


def correlate(a, v, mode: str = "valid", *, precision=None, preferred_element_type=None):
    """Cross-correlation ``c[k] = sum_n a[n + k] * v[n]`` of two 1-D arrays."""
    return _correlate_1d("correlate", a, v, mode, False, precision, preferred_element_type)

