"""``plax.numpy`` functions: ufuncs, reductions, shape manipulation, joining, linear
algebra and creation. Each row runs the function through plax (its lax decomposition, on
the backend) and compares with the reference and with numpy itself wherever numpy's
semantics are JAX's.

Where JAX and numpy differ (result dtypes: ``sum`` of int8 is int32 here, int64 in
numpy), the numpy result is cast to plax's result dtype before comparing, which is exact
for wrapping integer arithmetic and within the row's tolerance for floats.
"""

from __future__ import annotations

import numpy as np

import plax.numpy as pnp
from plax import dtypes

from plax_conformance.generators import (
    BASIC_SPECIALS,
    Gen,
    between,
    bools,
    floats,
    ints,
    positive,
    small_ints,
    uniform_or_ints,
)
from plax_conformance.oracles import float_op as F
from plax_conformance.registry import numpy_fn
from plax_conformance.spec import (
    ALL,
    FLOATS,
    INT_OR_BOOL,
    INTEGERS,
    Arg,
    each,
    samples,
    strided,
    transposed,
)
from plax_conformance.tolerance import BITWISE, EXACT, ulp

SHAPES = samples((), (0,), (7,), (3, 5), (2, 3, 4), (37, 129), transposed((5, 3)))
MATS = samples((1, 1), (3, 5), (1, 7), (6, 4), transposed((5, 3)), strided((4, 6)))
INTS = ("int8", "int32", "uint8", "uint32", "int64")
NUM = INTS + FLOATS


def ufunc1(fname, dtypes, tol=EXACT, gen=None, oracle=None, **kw):
    """A one-operand ufunc over the standard shapes and the edge values."""
    oracle = oracle if oracle is not None else F(getattr(np, fname))
    kw.setdefault("specials", True)
    return numpy_fn(f"numpy.{fname}", dtypes, arity=1, gen=gen, shapes=SHAPES, tol=tol,
                    numpy=oracle, **kw)


def ufunc2(fname, dtypes, tol=EXACT, gen=None, oracle=None, **kw):
    oracle = oracle if oracle is not None else F(getattr(np, fname))
    kw.setdefault("specials", True)
    return numpy_fn(f"numpy.{fname}", dtypes, arity=2, gen=gen, shapes=SHAPES, tol=tol,
                    numpy=oracle, **kw)




def _nan_to_num(x):
    """NaN -> 0, infinities -> the dtype's extremes (numpy's finfo lacks bfloat16)."""
    big = float(dtypes.finfo(x.dtype).max)
    wide = x.astype(np.float64)
    out = np.where(np.isnan(wide), 0.0, np.where(wide == np.inf, big,
                                                 np.where(wide == -np.inf, -big, wide)))
    return out.astype(x.dtype)


def _as_float(fn):
    """Integer operands in float64 (numpy would pick float16 for uint8 and int8)."""

    def oracle(x):
        if dtypes.is_integer(x.dtype):
            x = x.astype(np.float64)
        return F(fn)(x)

    return oracle


# ----------------------------------------------------------------------------
# Elementwise.

for _name in ("negative", "positive", "abs", "absolute", "square"):
    ufunc1(_name, NUM)
ufunc1("sign", NUM, oracle=np.sign)
for _name in ("floor", "ceil", "trunc", "fix", "rint"):
    ufunc1(_name, FLOATS + ("int32",), gen=uniform_or_ints(-50, 50))
ufunc1("fabs", FLOATS)
for _name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"):
    ufunc1(_name, FLOATS)
ufunc1("nan_to_num", FLOATS, oracle=_nan_to_num)
ufunc1("logical_not", ALL)
ufunc1("invert", INT_OR_BOOL, oracle=np.invert)
ufunc1("reciprocal", FLOATS, tol=ulp(3, half=1))
for _name in ("deg2rad", "rad2deg", "degrees", "radians"):
    ufunc1(_name, FLOATS, gen=floats(-400, 400), tol=ulp(2))
ufunc1("log2", FLOATS, gen=positive(0.01, 100), tol=ulp(4))
ufunc1("log10", FLOATS, gen=positive(0.01, 100), tol=ulp(4))
ufunc1("sqrt", ("int32", "uint8") + FLOATS, gen=uniform_or_ints(0, 100), tol=ulp(3, half=1),
       oracle=_as_float(np.sqrt))
ufunc1("exp", ("int8", "float32"), gen=uniform_or_ints(-5, 5), tol=ulp(4),
       oracle=_as_float(np.exp))
ufunc1("sinc", FLOATS, gen=floats(-4, 4, specials=BASIC_SPECIALS), tol=ulp(8, atol=4, half=4))

for _name in ("add", "subtract", "multiply"):
    ufunc2(_name, NUM)
_NONZERO = (uniform_or_ints(-100, 100), between(1, 9))
ufunc2("divide", NUM, gen=_NONZERO, tol=ulp(3, half=1))
ufunc2("true_divide", ("int32", "float32"), gen=_NONZERO, tol=ulp(3, half=1))
ufunc2("floor_divide", NUM, gen=_NONZERO, tol=ulp(2, half=1), specials=False)
ufunc2("remainder", NUM, gen=_NONZERO, tol=ulp(2, half=1, atol=4), specials=False)
ufunc2("mod", ("int32", "float32"), gen=_NONZERO, tol=ulp(2, half=1, atol=4), specials=False)
ufunc2("fmod", NUM, gen=_NONZERO, specials=False)
ufunc2("power", FLOATS, gen=(positive(0.1, 4), floats(-3, 3)), tol=ulp(16, half=2))
ufunc2("power", INTS, name="numpy.power:ints", subject="numpy.power",
       gen=(uniform_or_ints(-5, 5), between(0, 5)), specials=False)
ufunc2("float_power", ("float32", "float64"), gen=(positive(0.1, 4), floats(-3, 3)),
       tol=ulp(16, half=2))
for _name in ("maximum", "minimum"):
    ufunc2(_name, ALL)
for _name in ("fmax", "fmin"):
    ufunc2(_name, FLOATS + ("int32",))
ufunc2("arctan2", FLOATS, gen=floats(-5, 5), tol=ulp(6))
ufunc2("hypot", FLOATS, gen=floats(-5, 5), tol=ulp(4))
ufunc2("copysign", FLOATS)
ufunc2("logaddexp", FLOATS, gen=floats(-10, 10), tol=ulp(8, atol=2, half=4))
ufunc2("logaddexp2", FLOATS, gen=floats(-10, 10), tol=ulp(8, atol=2, half=4))
ufunc2("heaviside", FLOATS)
for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
              "logical_and", "logical_or", "logical_xor"):
    ufunc2(_name, ALL)
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    ufunc2(_name, INT_OR_BOOL)
# numpy leaves shifts by the bit width or more undefined: only in-range amounts here.
for _name in ("left_shift", "right_shift"):
    ufunc2(_name, INTEGERS, gen=(ints(), between(0, 7)))

numpy_fn("numpy.where", ALL, args=(Arg(bools(), dtype="bool"), Arg(), Arg()), shapes=SHAPES,
         specials=True, numpy=np.where)
numpy_fn("numpy.clip", NUM, args=(Arg(), Arg(between(-2, -1), shape=()),
                                  Arg(between(1, 2), shape=())),
         shapes=SHAPES, specials=True, numpy=lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi))

# ----------------------------------------------------------------------------
# Reductions.

_AXES = [{"axis": None}, {"axis": 0}, {"axis": 1, "keepdims": True}]
_AXES_LABELS = ["all", "axis=0", "axis=1_keepdims"]
_SUMS = small_ints()
numpy_fn("numpy.sum", NUM + ("bool",), gen=_SUMS, shapes=MATS + samples((0, 3)),
         params=_AXES, labels=_AXES_LABELS, numpy=F(np.sum))
numpy_fn("numpy.prod", NUM, gen=small_ints(-2, 2), shapes=MATS, params=_AXES,
         labels=_AXES_LABELS, numpy=F(np.prod))
for _name in ("max", "min", "amax", "amin", "ptp"):
    numpy_fn(f"numpy.{_name}", NUM, gen=uniform_or_ints(), shapes=MATS, params=_AXES,
             labels=_AXES_LABELS, numpy=F(getattr(np, _name)))
for _name in ("all", "any", "count_nonzero"):
    numpy_fn(f"numpy.{_name}", ALL, shapes=MATS + samples((0, 3)),
             params=[{"axis": None}, {"axis": 0}], labels=["all", "axis=0"],
             numpy=getattr(np, _name))
for _name in ("argmax", "argmin"):
    numpy_fn(f"numpy.{_name}", NUM, gen=uniform_or_ints(), shapes=MATS,
             params=[{"axis": None}, {"axis": 1}], labels=["all", "axis=1"],
             numpy=F(getattr(np, _name)))
numpy_fn("numpy.mean", NUM, gen=_SUMS, shapes=MATS, params=_AXES, labels=_AXES_LABELS,
         tol=ulp(4, half=2), numpy=F(np.mean))
for _name in ("var", "std"):
    numpy_fn(f"numpy.{_name}", FLOATS + ("int32",), gen=floats(-2, 2, specials=None),
             shapes=MATS, params=[{"axis": None}, {"axis": 0, "ddof": 1}],
             labels=["all", "axis=0_ddof=1"], tol=ulp(16, atol=16, half=4),
             numpy=F(getattr(np, _name)))
numpy_fn("numpy.median", FLOATS, gen=floats(-5, 5, specials=None), shapes=MATS,
         params=[{"axis": None}, {"axis": 0}], labels=["all", "axis=0"], tol=ulp(1),
         numpy=F(np.median))
numpy_fn("numpy.average", FLOATS, gen=_SUMS, shapes=MATS, params=[{"axis": None}, {"axis": 1}],
         labels=["all", "axis=1"], tol=ulp(4, half=2), numpy=F(np.average))
for _name in ("nansum", "nanmax", "nanmin", "nanmean"):
    numpy_fn(f"numpy.{_name}", FLOATS, gen=small_ints(-3, 3, specials=True),
             shapes=samples((3, 5), (6, 4), transposed((5, 3))),
             params=[{"axis": None}, {"axis": 0}], labels=["all", "axis=0"],
             tol=ulp(4, half=2), numpy=F(getattr(np, _name)))
for _name in ("cumsum", "cumprod"):
    numpy_fn(f"numpy.{_name}", NUM, gen=small_ints(-2, 2), shapes=MATS,
             params=[{"axis": None}, {"axis": 0}, {"axis": 1}],
             labels=["flat", "axis=0", "axis=1"], numpy=F(getattr(np, _name)))

# ----------------------------------------------------------------------------
# Shape manipulation and joining (bit-exact data movement).

_M = samples((3, 4), (1, 6), (0, 2), transposed((4, 3)), strided((3, 4)))


def move(name, params, labels=None, shapes=_M, oracle=None, **kw):
    return numpy_fn(f"numpy.{name}", ALL, shapes=shapes, params=params, tol=BITWISE,
                    labels=labels or (), numpy=oracle or getattr(np, name), **kw)


move("reshape", [{"shape": (-1,)}, {"shape": (2, -1)}], ["flat", "2_rows"],
     shapes=samples((3, 4), (2, 6), transposed((4, 3))))
move("transpose", [{"axes": None}, {"axes": (1, 0)}], ["default", "1,0"])
move("moveaxis", [{"source": 0, "destination": -1}], shapes=samples((2, 3, 4), (1, 0, 2)))
move("swapaxes", [{"axis1": 0, "axis2": 2}], shapes=samples((2, 3, 4), (1, 0, 2)))
move("squeeze", [{"axis": None}, {"axis": 0}], shapes=samples((1, 3, 1), (1, 1)))
move("expand_dims", [{"axis": 0}, {"axis": (1, 3)}])
move("ravel", [{}])
move("flip", [{"axis": None}, {"axis": 1}])
move("fliplr", [{}])
move("flipud", [{}])
move("roll", [{"shift": 2, "axis": None}, {"shift": -1, "axis": 1}, {"shift": 5, "axis": 0}],
     ["flat_2", "axis1_-1", "axis0_5"])
move("rot90", [{"k": 1}, {"k": 2}, {"k": -1}])
move("tile", [{"reps": (2, 1)}, {"reps": 3}], ["2x1", "3"])
move("repeat", [{"repeats": 2, "axis": None}, {"repeats": 3, "axis": 0}],
     ["flat_2", "axis0_3"])
move("broadcast_to", [{"shape": (2, 3, 4)}], shapes=samples((3, 4), (1, 4), (3, 1), ()))
move("diagonal", [{"offset": 0}, {"offset": 1}, {"offset": -2}])
move("tril", [{"k": 0}, {"k": -1}])
move("triu", [{"k": 0}, {"k": 1}])
numpy_fn("numpy.trace", NUM, gen=small_ints(), shapes=_M, params=[{"offset": 0}, {"offset": 1}],
         numpy=F(np.trace))
move("split", [{"indices_or_sections": 2, "axis": 1}, {"indices_or_sections": (1, 3), "axis": 1}],
     ["halves", "at_1_3"], shapes=samples((3, 4), (0, 4), transposed((4, 4))))
move("array_split", [{"indices_or_sections": 3, "axis": 1}], ["thirds"])


def join(name, arity=3, shapes=None, params=({},), **kw):
    """A function of a sequence of arrays (``concatenate``, ``stack``, ...)."""

    def fn(*arrays, **p):
        return getattr(pnp, name)(arrays, **p)

    def oracle(*arrays, **p):
        return getattr(np, name)(arrays, **p)

    return numpy_fn(fn, ALL, name=f"numpy.{name}", requires=(f"numpy.{name}",), arity=arity,
                    shapes=shapes, params=params, tol=BITWISE, numpy=oracle, **kw)


join("concatenate", shapes=(each((2, 3), (1, 3), (0, 3)), transposed((2, 3), (2, 3), (4, 3))),
     params=[{"axis": 0}])
join("stack", shapes=((3, 4), (), (0, 2), transposed((3, 4))), params=[{"axis": 0}, {"axis": -1}],
     labels=["axis=0", "axis=-1"])
for _name in ("hstack", "vstack", "dstack", "column_stack"):
    join(_name, arity=2, shapes=((3, 4), (1, 1), transposed((3, 2))))

# ----------------------------------------------------------------------------
# Sorting.

numpy_fn("numpy.sort", ALL, gen=uniform_or_ints(), shapes=MATS,
         params=[{"axis": -1}, {"axis": 0}], labels=["axis=-1", "axis=0"],
         numpy=lambda a, axis: np.sort(a.astype(np.float32) if a.dtype.itemsize == 2 and
                                       a.dtype.kind not in "iu" else a, axis=axis))
numpy_fn("numpy.argsort", ALL, gen=small_ints(-2, 2, specials=True), shapes=MATS,
         params=[{"axis": -1}, {"axis": 0}], labels=["axis=-1", "axis=0"],
         numpy=lambda a, axis: np.argsort(a.astype(np.float32) if a.dtype.itemsize == 2 and
                                          a.dtype.kind not in "iu" else a, axis=axis,
                                          kind="stable"))

# ----------------------------------------------------------------------------
# Linear algebra on small whole numbers (exact in any accumulation order).

_LA = small_ints()
numpy_fn("numpy.matmul", NUM, gen=_LA, arity=2,
         shapes=(each((3, 4), (4, 5)), each((2, 3, 4), (4, 2)), each((4,), (4, 3)),
                 each((0, 2), (2, 3)), transposed((3, 4), (4, 2))), numpy=F(np.matmul))
numpy_fn("numpy.dot", NUM, gen=_LA, arity=2,
         shapes=(each((3, 4), (4, 5)), each((5,), (5,)), each((), (3,))), numpy=F(np.dot))
for _name in ("outer", "inner"):
    numpy_fn(f"numpy.{_name}", NUM, gen=_LA, arity=2, shapes=(each((3,), (4,)) if _name == "outer"
                                                              else each((3, 4), (2, 4)),
                                                              each((1,), (1,))),
             numpy=F(getattr(np, _name)))
numpy_fn("numpy.tensordot", ("int32", "float32"), gen=_LA, arity=2,
         shapes=(each((2, 3, 4), (3, 4, 5)),), params=[{"axes": 2}], numpy=F(np.tensordot))
numpy_fn("numpy.kron", ("int32", "float32"), gen=_LA, arity=2,
         shapes=(each((2, 3), (2, 2)),), numpy=F(np.kron))

# ----------------------------------------------------------------------------
# Creation: no array operands; the case's dtype is the result's.

_CREATE = ALL


def create(name, fn, params, labels, dtypes=_CREATE, tol=EXACT, oracle=None):
    return numpy_fn(fn, dtypes, name=f"numpy.{name}", requires=(f"numpy.{name}",), arity=0,
                    shapes=((),), params=params, labels=labels, dtype_param="dtype", tol=tol,
                    numpy=oracle)


create("arange", lambda *, n, dtype: pnp.arange(n, dtype=dtype), [{"n": 0}, {"n": 7}],
       ["0", "7"], dtypes=("int8", "int32", "uint32", "float16", "float32", "float64"),
       oracle=lambda *, n, dtype: np.arange(n).astype(dtype))
create("linspace", lambda *, num, dtype: pnp.linspace(-1.0, 2.0, num, dtype=dtype),
       [{"num": 1}, {"num": 7}, {"num": 50}], ["1", "7", "50"], dtypes=FLOATS,
       tol=ulp(2, atol=2), oracle=lambda *, num, dtype: np.linspace(-1.0, 2.0, num).astype(dtype))
create("eye", lambda *, n, m, k, dtype: pnp.eye(n, m, k, dtype=dtype),
       [{"n": 3, "m": 4, "k": 1}, {"n": 2, "m": None, "k": 0}], ["3x4_k=1", "2"],
       oracle=lambda *, n, m, k, dtype: np.eye(n, m, k).astype(dtype))
create("tri", lambda *, n, k, dtype: pnp.tri(n, n + 1, k, dtype=dtype),
       [{"n": 3, "k": 0}, {"n": 4, "k": -1}], ["3", "4_k=-1"],
       oracle=lambda *, n, k, dtype: np.tri(n, n + 1, k).astype(dtype))
create("full", lambda *, shape, dtype: pnp.full(shape, 1, dtype=dtype),
       [{"shape": (2, 3)}, {"shape": ()}, {"shape": (0, 4)}], ["2x3", "0d", "0x4"],
       oracle=lambda *, shape, dtype: np.full(shape, 1).astype(dtype))
create("zeros", lambda *, shape, dtype: pnp.zeros(shape, dtype=dtype), [{"shape": (3, 2)}],
       ["3x2"], oracle=lambda *, shape, dtype: np.zeros(shape, dtype=dtype))
create("ones", lambda *, shape, dtype: pnp.ones(shape, dtype=dtype), [{"shape": (4,)}], ["4"],
       oracle=lambda *, shape, dtype: np.ones(shape, dtype=dtype))

# ----------------------------------------------------------------------------
# More functions: transcendental ufuncs (through their lax primitives), indexing,
# searching, convolution and friends.

for _name, _gen, _tol in (
    ("sin", floats(-10, 10, specials=BASIC_SPECIALS), ulp(4, atol=2)),
    ("cos", floats(-10, 10, specials=BASIC_SPECIALS), ulp(4, atol=2)),
    ("tan", floats(-10, 10, specials=BASIC_SPECIALS), ulp(6, atol=2)),
    ("arcsin", floats(-1, 1), ulp(4)),
    ("arccos", floats(-1, 1), ulp(4)),
    ("arctan", floats(-10, 10), ulp(5)),
    ("sinh", floats(-5, 5), ulp(4)),
    ("cosh", floats(-5, 5), ulp(4)),
    ("tanh", floats(-5, 5), ulp(5)),
    ("arcsinh", floats(-10, 10), ulp(4)),
    ("arccosh", positive(1, 10), ulp(4)),
    ("arctanh", floats(-1, 1), ulp(5)),
    ("log", positive(0.01, 100), ulp(4)),
    ("log1p", floats(-0.99, 10), ulp(4)),
    ("expm1", floats(-5, 5), ulp(4)),
    ("exp2", floats(-10, 10), ulp(4)),
    ("cbrt", floats(-100, 100), ulp(4)),
):
    ufunc1(_name, ("float32", "float16", "float64"), gen=_gen, tol=_tol)
ufunc1("around", FLOATS, gen=floats(-50, 50), oracle=np.round)
numpy_fn("numpy.round", ("float32", "float64"), gen=floats(-50, 50, specials=None),
         shapes=SHAPES, params=[{"decimals": 0}, {"decimals": 2}, {"decimals": -1}],
         tol=ulp(2, atol=2), numpy=np.round)
ufunc1("bitwise_invert", INT_OR_BOOL, oracle=np.invert)
ufunc2("pow", FLOATS, gen=(positive(0.1, 4), floats(-3, 3)), tol=ulp(16, half=2),
       oracle=F(np.power))
ufunc2("divmod", ("int32", "int8", "float32"), gen=_NONZERO, specials=False,
       tol=ulp(2, half=1, atol=4), oracle=F(np.divmod))
ufunc2("isclose", FLOATS, gen=(floats(-2, 2), floats(-2, 2)), oracle=F(np.isclose))
numpy_fn(lambda a, b, subscripts: pnp.einsum(subscripts, a, b), ("float32", "int32", "float64"),
         name="numpy.einsum", requires=("numpy.einsum",), arity=2, gen=_LA,
         shapes=(each((3, 4), (4, 5)), each((0, 2), (2, 3))),
         params=[{"subscripts": "ij,jk->ik"}],
         numpy=lambda a, b, subscripts: np.einsum(subscripts, a, b))
numpy_fn(lambda a, b: pnp.einsum("ij,ij->i", a, b), ("float32", "int32"), name="numpy.einsum:rows",
         subject="numpy.einsum", requires=("numpy.einsum",), arity=2, gen=_LA,
         shapes=(each((2, 3), (2, 3)), each((4, 1), (4, 1))),
         numpy=lambda a, b: np.einsum("ij,ij->i", a, b))
numpy_fn("numpy.take", ALL, args=(Arg(), Arg(between(-3, 6), dtype="int32", shape=(5,),
                                             layout=False)),
         shapes=samples((7,), (4, 7), transposed((3, 7))), params=[{"axis": -1}],
         tol=BITWISE, numpy=lambda a, idx, axis: np.take(a, np.clip(
             np.where(idx < 0, idx + a.shape[axis], idx), 0, a.shape[axis] - 1), axis=axis))
numpy_fn("numpy.take_along_axis", ALL,
         args=(Arg(), Arg(between(0, 3), dtype="int32", layout=False)),
         shapes=samples((4, 4), (2, 4)), params=[{"axis": 1}], tol=BITWISE,
         numpy=np.take_along_axis)
numpy_fn("numpy.searchsorted", ("float32", "int32"), arity=2,
         args=(Arg(Gen(lambda rng, shape, dt: np.sort(rng.integers(-20, 20, shape)), None,
                       "sorted")), Arg(between(-25, 25), shape=(9,), layout=False)),
         shapes=samples((8,), (1,), (0,)), params=[{"side": "left"}, {"side": "right"}],
         numpy=lambda a, v, side: np.searchsorted(a, v, side=side).astype(np.int32))
for _name in ("convolve", "correlate"):
    numpy_fn(f"numpy.{_name}", ("float32", "int32", "float64"), arity=2, gen=_LA,
             shapes=(each((7,), (3,)), each((4,), (4,)), each((1,), (5,))),
             params=[{"mode": m} for m in ("full", "same", "valid")],
             numpy=getattr(np, _name))
numpy_fn("numpy.diag", ALL, shapes=samples((4,), (3, 4), (0,)), params=[{"k": 0}, {"k": 1}],
         tol=BITWISE, numpy=np.diag)
numpy_fn("numpy.vdot", NUM, arity=2, gen=_LA, shapes=(each((3, 4), (3, 4)), each((5,), (5,))),
         numpy=F(np.vdot))
numpy_fn("numpy.nanprod", FLOATS, gen=small_ints(-2, 2, specials=True),
         shapes=samples((3, 5), (6, 4)), params=[{"axis": None}, {"axis": 0}],
         labels=["all", "axis=0"], tol=ulp(4, half=2), numpy=F(np.nanprod))
for _name in ("zeros_like", "ones_like"):
    numpy_fn(f"numpy.{_name}", ALL, shapes=SHAPES, tol=BITWISE, numpy=getattr(np, _name))
numpy_fn("numpy.full_like", NUM, shapes=SHAPES, params=[{"fill_value": 3}], tol=BITWISE,
         numpy=np.full_like)
move("matrix_transpose", [{}], shapes=samples((3, 4), (2, 3, 4)),
     oracle=lambda x: np.swapaxes(x, -1, -2))
move("permute_dims", [{"axes": (1, 0)}])
move("append", [{"values": 7, "axis": None}], oracle=lambda a, values, axis: np.append(
    a, np.array(values, np.int32 if a.dtype == np.bool_ else a.dtype)))  # 7 is weakly typed
move("hsplit", [{"indices_or_sections": 2}], shapes=samples((3, 4), (0, 2)))
move("vsplit", [{"indices_or_sections": 1}], shapes=samples((3, 4), (2, 2)))
move("atleast_2d", [{}], shapes=samples((), (3,), (2, 3)))
numpy_fn("numpy.msort", ("float32", "int32", "bool"), shapes=MATS, numpy=lambda a: np.sort(a, 0))
