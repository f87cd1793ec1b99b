"""Data movement and conversions: conversions between dtypes, bit casts, broadcasting,
reshapes, transposes, slicing (static and dynamic), padding, concatenation, reversal and
iota. Data movement is compared bit-exactly (the sign of zero included)."""

from __future__ import annotations

import numpy as np

from plax import dtypes, lax

from plax_conformance import oracles
from plax_conformance.generators import Gen, ints, special_floats, special_ints
from plax_conformance.registry import op
from plax_conformance.spec import ALL, NUMERIC, Arg, each, strided, transposed
from plax_conformance.tolerance import BITWISE, EXACT

# ----------------------------------------------------------------------------
# Conversions.


def _wide_values(rng, shape, dtype):
    """Floats of every magnitude (so float -> int saturates), integers of the whole range."""
    if np.dtype(dtype) == dtypes.bool_:
        return rng.random(shape) < 0.5
    if dtypes.is_integer(dtype):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    magnitude = 10.0 ** rng.uniform(-3, 12, size=shape)
    return np.where(rng.random(shape) < 0.5, -magnitude, magnitude)


def _conversion_edges(dtype):
    if dtypes.is_float(dtype):
        return special_floats(dtype)
    return special_ints(dtype)


_WIDE = Gen(_wide_values, _conversion_edges, "wide_values", 0.05)
_CONVERT_SHAPES = ((), (0,), (7,), (3, 5), (37, 129), transposed((5, 3)))

op("lax.convert_element_type", ALL, gen=_WIDE, shapes=_CONVERT_SHAPES, specials=True,
   params=[{"new_dtype": d} for d in ALL], labels=[f"to={d.name}" for d in ALL],
   numpy=oracles.convert)

# Bit casts between dtypes of one width keep the shape; every bit must survive (NaN
# payloads included, so the integer view is what is compared).
for _width, _group in ((8, ("int8", "uint8")), (16, ("int16", "uint16", "float16", "bfloat16")),
                       (32, ("int32", "uint32", "float32")), (64, ("int64", "uint64", "float64"))):
    _targets = [dtypes.dtype(t) for t in _group]
    op("lax.bitcast_convert_type", _group, name=f"lax.bitcast_convert_type:{_width}bit",
       subject="lax.bitcast_convert_type", gen=_WIDE, shapes=_CONVERT_SHAPES, specials=True,
       params=[{"new_dtype": t} for t in _targets], labels=[f"to={t.name}" for t in _targets],
       numpy=lambda x, new_dtype: np.array(x).view(new_dtype), tol=BITWISE)

# Bit casts that change the width add (or remove) a trailing dimension.
op("lax.bitcast_convert_type", ("int32", "uint32", "float32"),
   name="lax.bitcast_convert_type:narrow", subject="lax.bitcast_convert_type", gen=_WIDE,
   shapes=((), (5,), (2, 3)), params=[{"new_dtype": dtypes.uint8}, {"new_dtype": dtypes.int16}],
   labels=["to=uint8", "to=int16"], tol=BITWISE,
   numpy=lambda x, new_dtype: np.array(x).reshape(x.shape + (1,)).view(new_dtype))
op("lax.bitcast_convert_type", ("uint8", "int8"), name="lax.bitcast_convert_type:widen",
   subject="lax.bitcast_convert_type", shapes=((4,), (3, 4), (2, 1, 4)),
   params=[{"new_dtype": dtypes.float32}, {"new_dtype": dtypes.int32}],
   labels=["to=float32", "to=int32"], tol=BITWISE,
   numpy=lambda x, new_dtype: np.array(x).view(new_dtype).reshape(x.shape[:-1]))

# ----------------------------------------------------------------------------
# Shapes and layouts.

_ND = ((2, 3), (1, 1), (0, 3), (4, 1), transposed((3, 2)), strided((2, 3)))



def _broadcast_oracle(x, shape, broadcast_dimensions):
    missing = tuple(i for i in range(len(shape)) if i not in broadcast_dimensions)
    return np.broadcast_to(np.expand_dims(x, missing), shape)


op("lax.broadcast_in_dim", ALL, shapes=((3,), (1,), strided((3,))),
   params=[{"shape": (2, 3), "broadcast_dimensions": (1,)},
           {"shape": (3, 4), "broadcast_dimensions": (0,)},
           {"shape": (3, 0), "broadcast_dimensions": (0,)}],
   labels=["3_to_2x3", "3_to_3x4", "3_to_3x0"], tol=BITWISE, numpy=_broadcast_oracle)
op("lax.broadcast_in_dim", ALL, name="lax.broadcast_in_dim:scalar", subject="lax.broadcast_in_dim",
   shapes=((),), params=[{"shape": (), "broadcast_dimensions": ()},
                         {"shape": (4, 0), "broadcast_dimensions": ()},
                         {"shape": (3, 1, 5), "broadcast_dimensions": ()}],
   labels=["to_0d", "to_4x0", "to_3x1x5"], tol=BITWISE,
   numpy=lambda x, shape, broadcast_dimensions: np.broadcast_to(x, shape))
op("lax.reshape", ALL, shapes=((2, 6), transposed((4, 3)), strided((3, 4))),
   params=[{"new_sizes": (12,)}, {"new_sizes": (3, 2, 2)}, {"new_sizes": (1, 12, 1)},
           {"new_sizes": (4, 3), "dimensions": (1, 0)}],
   labels=["12", "3x2x2", "1x12x1", "4x3_dims=1,0"], tol=BITWISE,
   numpy=lambda x, new_sizes, dimensions=None: np.reshape(
       np.transpose(x, dimensions) if dimensions else x, new_sizes))
op("lax.reshape", ALL, name="lax.reshape:degenerate", subject="lax.reshape",
   shapes=((0, 3),), params=[{"new_sizes": (3, 0)}, {"new_sizes": (0,)}],
   labels=["3x0", "0"], tol=BITWISE,
   numpy=lambda x, new_sizes: np.reshape(x, new_sizes))
op("lax.transpose", ALL, shapes=((2, 3, 4), (1, 5, 1), (0, 2, 3), strided((2, 3, 2))),
   params=[{"permutation": p} for p in ((2, 0, 1), (1, 0, 2), (0, 1, 2), (2, 1, 0))],
   tol=BITWISE, numpy=lambda x, permutation: np.transpose(x, permutation))
op("lax.squeeze", ALL, shapes=((1, 3, 1), (1, 0, 1), transposed((1, 4, 1))),
   params=[{"dimensions": (0,)}, {"dimensions": (2,)}, {"dimensions": (0, 2)}], tol=BITWISE,
   numpy=lambda x, dimensions: np.squeeze(x, dimensions))
op("lax.expand_dims", ALL, primitives=(), shapes=((3,), (0,), (2, 3)),
   params=[{"dimensions": (0,)}, {"dimensions": (0, 2)}, {"dimensions": (-1,)}], tol=BITWISE,
   numpy=lambda x, dimensions: np.expand_dims(x, dimensions))
op(lambda *xs, dimension: lax.concatenate(xs, dimension), ALL, name="lax.concatenate",
   primitives=("concatenate",), requires=("lax.concatenate",), arity=3,
   shapes=(each((2, 3), (2, 1), (2, 0)), each((0, 3), (0, 1), (0, 2)), each((3, 2), (3, 5), (3, 1)),
           transposed((2, 3), (2, 4), (2, 1)), strided((3, 2), (3, 1), (3, 3))),
   params=[{"dimension": 1}], tol=BITWISE,
   numpy=lambda *xs, dimension: np.concatenate(xs, dimension))
op(lambda *xs, dimension: lax.concatenate(xs, dimension), ALL, name="lax.concatenate:axis0",
   subject="lax.concatenate", primitives=("concatenate",), requires=("lax.concatenate",), arity=2,
   shapes=(each((1,), (4,)), each((2, 3), (1, 3)), each((0, 2), (3, 2))),
   params=[{"dimension": 0}], tol=BITWISE,
   numpy=lambda *xs, dimension: np.concatenate(xs, dimension))


def _pad_oracle(x, value, padding_config):
    out = x
    for axis, (low, high, interior) in enumerate(padding_config):
        n = out.shape[axis]
        size = n + max(n - 1, 0) * interior
        shape = list(out.shape)
        shape[axis] = size
        grown = np.full(shape, value, dtype=x.dtype)
        index = [slice(None)] * out.ndim
        index[axis] = slice(0, size, interior + 1)
        grown[tuple(index)] = out
        pads = [(0, 0)] * out.ndim
        pads[axis] = (max(low, 0), max(high, 0))
        grown = np.pad(grown, pads, constant_values=np.asarray(value, dtype=x.dtype))
        crop = [slice(None)] * out.ndim
        crop[axis] = slice(max(-low, 0), grown.shape[axis] - max(-high, 0))
        out = grown[tuple(crop)]
    return out


op("lax.pad", ALL, args=(Arg(), Arg(shape=())), shapes=((3, 4), (1, 1), (0, 2),
                                                        transposed((4, 3)), strided((3, 2))),
   params=[{"padding_config": ((1, 2, 0), (0, 1, 0))},
           {"padding_config": ((0, 0, 1), (2, 0, 2))},
           {"padding_config": ((-1, 1, 0), (1, -1, 1))},
           {"padding_config": ((0, 0, 0), (0, 0, 0))}],
   labels=["low_high", "interior", "negative", "none"], tol=BITWISE, numpy=_pad_oracle)
op("lax.slice", ALL, shapes=((5, 7), (6, 6), transposed((5, 7)), strided((5, 6))),
   params=[{"start_indices": (1, 2), "limit_indices": (4, 6)},
           {"start_indices": (0, 0), "limit_indices": (5, 6), "strides": (2, 3)},
           {"start_indices": (4, 1), "limit_indices": (4, 5)},
           {"start_indices": (0, 5), "limit_indices": (5, 6), "strides": (4, 1)}],
   labels=["inner", "strided", "empty", "edge"], tol=BITWISE,
   numpy=lambda x, start_indices, limit_indices, strides=None: x[tuple(
       slice(s, e, st) for s, e, st in zip(start_indices, limit_indices,
                                           strides or (1,) * x.ndim))])
op("lax.rev", ALL, shapes=((4, 5), (1, 3), (0, 2), transposed((3, 4)), strided((3, 3))),
   params=[{"dimensions": (0,)}, {"dimensions": (1,)}, {"dimensions": (0, 1)}], tol=BITWISE,
   numpy=lambda x, dimensions: np.flip(x, dimensions))
op(lambda *, dtype, size: lax.iota(dtype, size), NUMERIC, name="lax.iota", primitives=("iota",),
   requires=("lax.iota",), arity=0, shapes=((),), dtype_param="dtype",
   params=[{"size": n} for n in (0, 1, 7, 300)], tol=EXACT,
   numpy=lambda *, dtype, size: np.arange(size, dtype=np.int64).astype(dtype))
op(lambda *, dtype, shape, dimension: lax.broadcasted_iota(dtype, shape, dimension), NUMERIC,
   name="lax.broadcasted_iota", subject="lax.iota", primitives=("iota",),
   requires=("lax.broadcasted_iota",), arity=0, shapes=((),), dtype_param="dtype",
   params=[{"shape": (3, 4), "dimension": 1}, {"shape": (2, 0, 3), "dimension": 2},
           {"shape": (5, 2), "dimension": 0}], tol=EXACT,
   numpy=lambda *, dtype, shape, dimension: np.broadcast_to(
       np.arange(shape[dimension]).reshape(
           [shape[dimension] if i == dimension else 1 for i in range(len(shape))]),
       shape).astype(dtype))

# ----------------------------------------------------------------------------
# Dynamic slicing: start indices are runtime values; out-of-range starts clamp (after a
# negative start counts from the end).


def _clamped(indices, shape, sizes):
    out = []
    for index, size, n in zip(indices, shape, sizes):
        start = int(index)
        if start < 0:
            start += size
        out.append(min(max(start, 0), size - n))
    return out


def _dynamic_slice_oracle(x, *indices, slice_sizes):
    starts = _clamped(indices, x.shape, slice_sizes)
    return x[tuple(slice(s, s + n) for s, n in zip(starts, slice_sizes))]


def _dynamic_update_oracle(x, update, *indices):
    starts = _clamped(indices, x.shape, update.shape)
    out = np.array(x, copy=True)
    out[tuple(slice(s, s + n) for s, n in zip(starts, update.shape))] = update
    return out


_INDEX = Arg(ints(-12, 12), dtype="int32", shape=(), layout=False)
_DS_SHAPES = ((3, 5), (4, 4), (9, 17), transposed((5, 3)), strided((4, 6)))
op(lambda x, i, j, *, slice_sizes: lax.dynamic_slice(x, (i, j), slice_sizes), ALL,
   name="lax.dynamic_slice", primitives=("dynamic_slice",), requires=("lax.dynamic_slice",),
   args=(Arg(), _INDEX, _INDEX), shapes=_DS_SHAPES,
   params=[{"slice_sizes": (2, 3)}, {"slice_sizes": (1, 1)}, {"slice_sizes": (3, 0)}],
   tol=BITWISE, numpy=_dynamic_slice_oracle)
op(lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)), ALL,
   name="lax.dynamic_update_slice", primitives=("dynamic_update_slice",),
   requires=("lax.dynamic_update_slice",),
   args=(Arg(), Arg(shape=lambda s: (min(s[0], 2), min(s[1], 3))), _INDEX, _INDEX),
   shapes=_DS_SHAPES, tol=BITWISE, numpy=_dynamic_update_oracle)
