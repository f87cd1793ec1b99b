"""Arithmetic and transcendental elementwise functions with numpy promotion.

Each function promotes its arguments (``promotion.promote_args*``), broadcasts
them with numpy's rules and applies lax. Simple ones are one line through a
family factory; the rest compose lax operations where numpy and lax differ
(Python-style floor division and remainder, integer powers, rounding).

Integer division by zero follows JAX (and XLA): ``x // 0`` is computed from
``lax.div``'s result for a zero divisor, ``x % 0`` is 0.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from plax import core, dtypes, lax
from plax.lax.convert import _convert_keep_weak
from plax.numpy.eager import compiled_when_eager
from plax.numpy.promotion import (
    broadcast_args,
    check_arraylike,
    check_dtype_kinds,
    promote_args,
    promote_args_inexact,
    promote_args_numeric,
    promote_dtypes_numeric,
)
from plax.numpy.util import (
    const_like,
    dtype_of,
    full_like_value,
    is_float,
    named,
    select,
    static_int,
)

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder",
    "mod", "fmod", "divmod", "power", "pow", "float_power", "negative", "positive", "abs",
    "absolute", "fabs", "sign", "reciprocal", "square", "sqrt", "cbrt", "exp", "exp2",
    "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "asin", "acos",
    "atan", "asinh", "acosh", "atanh", "arctan2", "atan2", "hypot", "logaddexp",
    "logaddexp2", "deg2rad", "rad2deg", "radians", "degrees", "sinc", "floor", "ceil",
    "trunc", "fix", "rint", "round", "around", "maximum", "minimum", "fmax", "fmin", "clip",
    "copysign", "heaviside",
]

_NUMERIC = dtypes.NUMERIC
_NUMERIC_OR_BOOL = dtypes.ALL


def _is_unsigned_or_bool(x) -> bool:
    return dtype_of(x) in dtypes.UNSIGNED + (dtypes.bool_,)


# ----------------------------------------------------------------------------
# Family factories.


def _unary_inexact(name: str, lax_name: str):
    """Integers and booleans compute in the default float dtype (int32 -> float32)."""

    def fn(x, /):
        (x,) = promote_args_inexact(name, x)
        return getattr(lax, lax_name)(x)

    return compiled_when_eager(named(fn, name, f"Elementwise ``numpy.{name}`` (lax.{lax_name})."))


def _binary_inexact(name: str, lax_name: str):
    def fn(x1, x2, /):
        x1, x2 = promote_args_inexact(name, x1, x2)
        return getattr(lax, lax_name)(x1, x2)

    return compiled_when_eager(named(fn, name, f"Elementwise ``numpy.{name}`` (lax.{lax_name})."))


def _binary(name: str, lax_name: str, bool_lax_name: str | None, allowed=_NUMERIC_OR_BOOL):
    """An arithmetic op; booleans use ``bool_lax_name`` (add is ``or``, multiply ``and``)."""

    def fn(x1, x2, /):
        x1, x2 = promote_args(name, x1, x2)
        if dtype_of(x1) == dtypes.bool_:
            if bool_lax_name is None:
                raise TypeError(
                    f"{name} does not accept boolean inputs; use logical_xor or bitwise "
                    "operations on booleans, or convert them with astype(int) first"
                )
            return getattr(lax, bool_lax_name)(x1, x2)
        check_dtype_kinds(name, allowed, x1, x2)
        return getattr(lax, lax_name)(x1, x2)

    return compiled_when_eager(named(fn, name, f"Elementwise ``numpy.{name}`` (lax.{lax_name})."))


# ----------------------------------------------------------------------------
# Arithmetic.

add = _binary("add", "add", "bitwise_or")
subtract = _binary("subtract", "sub", None)
multiply = _binary("multiply", "mul", "bitwise_and")
maximum = _binary("maximum", "max", "bitwise_or")
minimum = _binary("minimum", "min", "bitwise_and")
divide = _binary_inexact("divide", "div")
true_divide = divide
arctan2 = _binary_inexact("arctan2", "atan2")
atan2 = arctan2


@compiled_when_eager
def floor_divide(x1, x2, /):
    """Python's ``//``: the quotient rounded toward negative infinity."""
    x1, x2 = promote_args_numeric("floor_divide", x1, x2)
    if is_float(x1):
        return _float_divmod(x1, x2)[0]
    quotient = lax.div(x1, x2)
    if dtype_of(x1) in dtypes.UNSIGNED:
        return quotient
    # lax.div truncates; step down where the signs differ and the division is inexact.
    # Comparing lax.sign (not "< 0") also steps down for a zero divisor, as JAX does.
    signs_differ = lax.ne(lax.sign(x1), lax.sign(x2))
    inexact = lax.ne(lax.rem(x1, x2), const_like(x1, 0))
    return select(lax.bitwise_and(signs_differ, inexact),
                  lax.sub(quotient, const_like(quotient, 1)), quotient)


def _float_divmod(x1, x2):
    """CPython's float divmod (floatobject.c): the quotient is computed from the exact
    remainder so that ``x1 == q * x2 + r`` holds as well as floats allow."""
    mod = lax.rem(x1, x2)
    divisor_is_zero = lax.eq(x2, const_like(x2, 0))
    numerator = select(divisor_is_zero, x1, lax.sub(x1, mod))
    quotient = lax.div(numerator, x2)
    zero = const_like(mod, 0)
    wrong_sign = lax.bitwise_and(
        lax.ne(mod, zero), lax.ne(lax.lt(x2, const_like(x2, 0)), lax.lt(mod, zero))
    )
    mod = select(wrong_sign, lax.add(mod, x2), mod)
    quotient = select(wrong_sign, lax.sub(quotient, const_like(quotient, 1)), quotient)
    return lax.round(quotient, lax.RoundingMethod.TO_NEAREST_EVEN), mod


@compiled_when_eager
def remainder(x1, x2, /):
    """Python's ``%``: the result has the divisor's sign; ``x % 0`` is 0 for integers."""
    x1, x2 = promote_args_numeric("remainder", x1, x2)
    if not is_float(x2):
        x2 = select(lax.eq(x2, const_like(x2, 0)), full_like_value(x2, 1), x2)
    truncated = lax.rem(x1, x2)
    zero = const_like(truncated, 0)
    wrong_sign = lax.bitwise_and(
        lax.ne(truncated, zero),
        lax.ne(lax.lt(truncated, zero), lax.lt(x2, const_like(x2, 0))),
    )
    return select(wrong_sign, lax.add(truncated, x2), truncated)


mod = remainder


def fmod(x1, x2, /):
    """C's fmod: the result has the dividend's sign; ``x fmod 0`` is 0 for integers."""
    x1, x2 = promote_args_numeric("fmod", x1, x2)
    if not is_float(x2):
        x2 = select(lax.eq(x2, const_like(x2, 0)), full_like_value(x2, 1), x2)
    return lax.rem(x1, x2)


def divmod(x1, x2, /):
    x1, x2 = promote_args_numeric("divmod", x1, x2)
    if is_float(x1):
        return _float_divmod(x1, x2)
    return floor_divide(x1, x2), remainder(x1, x2)


def _static_int_exponent(x2):
    """The exponent as a Python int when it is a concrete integer scalar, else None."""
    if isinstance(x2, (core.Tracer, float)):
        return None
    if np.ndim(x2) != 0 or dtype_of(x2) in dtypes.FLOATS:
        return None
    try:
        return operator.index(x2)
    except TypeError:
        return None


def _integer_power(x, n: int):
    """``x ** n`` for a static integer ``n``: lax.integer_pow (square-and-multiply, so
    ``x ** 2`` is exactly ``x * x``)."""
    if n < 0 and not is_float(x):
        raise TypeError(
            f"power: integers cannot be raised to negative powers, got exponent {n} for "
            f"dtype {dtype_of(x).name}"
        )
    return lax.integer_pow(x, n)


# With integer bases every exponent bit past the sixth overflows any base > 1, so
# six squarings decide the result (JAX does the same; negative exponents therefore
# use their low six bits).
_INT_POWER_BITS = 6


def _int_power(x1, x2):
    one = const_like(x2, 1)
    zero = const_like(x2, 0)
    # 0 ** n is 0 for n != 0 and 1 for n == 0.
    acc = select(lax.bitwise_and(lax.eq(x1, const_like(x1, 0)), lax.ne(x2, zero)),
                 full_like_value(x1, 0), full_like_value(x1, 1))
    for _ in range(_INT_POWER_BITS):
        bit_set = lax.ne(lax.bitwise_and(x2, full_like_value(x2, 1)), full_like_value(x2, 0))
        acc = select(bit_set, lax.mul(acc, x1), acc)
        x1 = lax.mul(x1, x1)
        x2 = lax.shift_right_logical(x2, lax.broadcast_in_dim(one, core.get_aval(x2).shape, ()))
    return acc


def power(x1, x2, /):
    """``x1 ** x2``. A concrete integer exponent is unrolled into multiplications."""
    check_arraylike("power", x1, x2)
    n = _static_int_exponent(x2)
    if n is not None:
        (x1,) = promote_dtypes_numeric(x1)
        return _integer_power(x1, n)
    if is_float(x1) and dtype_of(x2) in dtypes.INTEGERS:
        # A float base with integer exponents keeps the base's dtype, and the result is
        # weak only if both are (JAX applies lax.pow to these without promotion).
        (x1,) = promote_dtypes_numeric(x1)
        x1, x2 = broadcast_args(x1, x2, name="power")
        weak = core.get_aval(x1).weak_type and core.get_aval(x2).weak_type
        return lax.pow(x1, _convert_keep_weak(x2, dtype_of(x1), weak))
    x1, x2 = promote_args_numeric("power", x1, x2)
    if not is_float(x1):
        return _int_power(x1, x2)
    return lax.pow(x1, x2)


pow = power


def float_power(x1, x2, /):
    x1, x2 = promote_args_inexact("float_power", x1, x2)
    return lax.pow(x1, x2)


def negative(x, /):
    (x,) = promote_args("negative", x)
    check_dtype_kinds("negative", _NUMERIC, x)
    return lax.neg(x)


def positive(x, /):
    (x,) = promote_args("positive", x)
    return x


def abs(x, /):
    (x,) = promote_args("abs", x)
    if _is_unsigned_or_bool(x):
        return x
    return lax.abs(x)


absolute = abs


def fabs(x, /):
    (x,) = promote_args_inexact("fabs", x)
    return lax.abs(x)


def sign(x, /):
    (x,) = promote_args("sign", x)
    check_dtype_kinds("sign", _NUMERIC, x)
    if dtype_of(x) in dtypes.UNSIGNED:
        return lax.convert_element_type(lax.ne(x, const_like(x, 0)), dtype_of(x))
    return lax.sign(x)


def reciprocal(x, /):
    (x,) = promote_args_inexact("reciprocal", x)
    return lax.div(full_like_value(x, 1), x)


def square(x, /):
    (x,) = promote_args_numeric("square", x)
    return lax.mul(x, x)


sqrt = _unary_inexact("sqrt", "sqrt")
cbrt = _unary_inexact("cbrt", "cbrt")
exp = _unary_inexact("exp", "exp")
exp2 = _unary_inexact("exp2", "exp2")
expm1 = _unary_inexact("expm1", "expm1")
log = _unary_inexact("log", "log")
log1p = _unary_inexact("log1p", "log1p")
sin = _unary_inexact("sin", "sin")
cos = _unary_inexact("cos", "cos")
tan = _unary_inexact("tan", "tan")
arcsin = _unary_inexact("arcsin", "asin")
arccos = _unary_inexact("arccos", "acos")
arctan = _unary_inexact("arctan", "atan")
sinh = _unary_inexact("sinh", "sinh")
cosh = _unary_inexact("cosh", "cosh")
tanh = _unary_inexact("tanh", "tanh")
arcsinh = _unary_inexact("arcsinh", "asinh")
arccosh = _unary_inexact("arccosh", "acosh")
arctanh = _unary_inexact("arctanh", "atanh")
asin, acos, atan = arcsin, arccos, arctan
asinh, acosh, atanh = arcsinh, arccosh, arctanh


def _log_base(name: str, base: float):
    def fn(x, /):
        (x,) = promote_args_inexact(name, x)
        return lax.div(lax.log(x), lax.log(const_like(x, base)))

    return named(fn, name, f"Elementwise base-{base:g} logarithm (``numpy.{name}``).")


log2 = _log_base("log2", 2.0)
log10 = _log_base("log10", 10.0)


def _scale(name: str, factor: float):
    def fn(x, /):
        (x,) = promote_args_inexact(name, x)
        return lax.mul(x, const_like(x, factor))

    return named(fn, name, f"Elementwise ``numpy.{name}``: multiply by {factor!r}.")


deg2rad = _scale("deg2rad", math.pi / 180)
radians = _scale("radians", math.pi / 180)
rad2deg = _scale("rad2deg", 180 / math.pi)
degrees = _scale("degrees", 180 / math.pi)


def sinc(x, /):
    """sin(pi x) / (pi x), with sinc(0) = 1."""
    (x,) = promote_args_inexact("sinc", x)
    is_zero = lax.eq(x, const_like(x, 0))
    safe = select(is_zero, full_like_value(x, 1), x)
    pi_x = lax.mul(safe, const_like(x, math.pi))
    return select(is_zero, full_like_value(x, 1), lax.div(lax.sin(pi_x), pi_x))


def hypot(x1, x2, /):
    """sqrt(x1**2 + x2**2) without overflow; infinite if either input is infinite."""
    x1, x2 = promote_args_inexact("hypot", x1, x2)
    a1 = lax.abs(x1)
    a2 = lax.abs(x2)
    big = lax.max(a1, a2)
    small = lax.min(a1, a2)
    ratio = lax.div(small, select(lax.eq(big, const_like(big, 0)), full_like_value(big, 1), big))
    out = lax.mul(big, lax.sqrt(lax.add(full_like_value(ratio, 1), lax.mul(ratio, ratio))))
    inf = const_like(x1, np.inf)
    either_inf = lax.bitwise_or(lax.eq(a1, inf), lax.eq(a2, inf))
    return select(either_inf, full_like_value(out, np.inf), out)


def _logaddexp_with(name: str, exp_name: str, log_scale: float):
    def fn(x1, x2, /):
        x1, x2 = promote_args_inexact(name, x1, x2)
        biggest = lax.max(x1, x2)
        delta = lax.sub(x1, x2)
        tail = lax.log1p(getattr(lax, exp_name)(lax.neg(lax.abs(delta))))
        if log_scale != 1.0:
            tail = lax.div(tail, const_like(tail, log_scale))
        # delta is NaN when both are the same infinity (or a NaN is involved).
        return select(lax.ne(delta, delta), lax.add(x1, x2), lax.add(biggest, tail))

    return named(fn, name, f"``numpy.{name}`` without overflow.")


logaddexp = _logaddexp_with("logaddexp", "exp", 1.0)
logaddexp2 = _logaddexp_with("logaddexp2", "exp2", math.log(2.0))


# ----------------------------------------------------------------------------
# Rounding. Integers and booleans are already integral: floor/ceil/trunc return them.


def _integral_passthrough(name: str, float_fn):
    def fn(x, /):
        (x,) = promote_args(name, x)
        if not is_float(x):
            return x
        return float_fn(x)

    return named(fn, name, f"Elementwise ``numpy.{name}``; integers are returned unchanged.")


def _trunc_float(x):
    return select(lax.lt(x, const_like(x, 0)), lax.ceil(x), lax.floor(x))


floor = _integral_passthrough("floor", lambda x: lax.floor(x))
ceil = _integral_passthrough("ceil", lambda x: lax.ceil(x))
trunc = _integral_passthrough("trunc", _trunc_float)
fix = trunc


def rint(x, /):
    """Round to the nearest integer, halves to even; integers become floats (as JAX)."""
    (x,) = promote_args_inexact("rint", x)
    return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)


def round(a, decimals: int = 0, out=None):
    """Round half to even at ``decimals`` decimal places (numpy.round)."""
    if out is not None:
        raise NotImplementedError("round: the 'out' argument is not supported (arrays are "
                                  "immutable)")
    (a,) = promote_args("round", a)
    decimals = static_int(decimals, "round: decimals")
    dt = dtype_of(a)
    if dt == dtypes.bool_:
        raise TypeError("round does not accept boolean inputs")
    if dt in dtypes.INTEGERS:
        if decimals < 0:
            raise NotImplementedError("round: integer inputs with decimals < 0 are not supported")
        return a
    if decimals == 0:
        return lax.round(a, lax.RoundingMethod.TO_NEAREST_EVEN)
    if decimals > math.log10(float(dtypes.finfo(dt).max)):
        return a  # finer than the dtype can represent
    # Scale in at least float32 so that the scaled value keeps its digits.
    work = dtypes.float32 if dt in (dtypes.float16, dtypes.bfloat16) else dt
    x = _convert_keep_weak(a, work, core.get_aval(a).weak_type)
    factor = const_like(x, 10.0**decimals)
    scaled = lax.round(lax.mul(x, factor), lax.RoundingMethod.TO_NEAREST_EVEN)
    return _convert_keep_weak(lax.div(scaled, factor), dt, core.get_aval(a).weak_type)


around = round


# ----------------------------------------------------------------------------
# NaN-aware extrema, clip, sign manipulation.


def _nan_ignoring(name: str, pick):
    def fn(x1, x2, /):
        x1, x2 = promote_args(name, x1, x2)
        out = pick(x1, x2)
        if not is_float(x1):
            return out
        out = select(lax.ne(x1, x1), x2, out)
        return select(lax.ne(x2, x2), x1, out)

    return named(fn, name, f"``numpy.{name}``: a NaN loses to a number.")


fmax = _nan_ignoring("fmax", lambda a, b: maximum(a, b))
fmin = _nan_ignoring("fmin", lambda a, b: minimum(a, b))


def clip(arr=None, /, min=None, max=None, *, a=None, a_min=None, a_max=None):
    """Limit values to [min, max] (either may be None). ``a_min``/``a_max`` are numpy's
    older names for the bounds."""
    if arr is None:
        arr = a
    if arr is None:
        raise TypeError("clip: missing the array argument")
    for new, old, label in ((min, a_min, "min"), (max, a_max, "max")):
        if new is not None and old is not None:
            raise TypeError(f"clip: pass only one of '{label}' and 'a_{label}'")
    lower = min if min is not None else a_min
    upper = max if max is not None else a_max
    check_arraylike("clip", arr)
    out = arr
    if lower is not None:
        out = maximum(out, lower)
    if upper is not None:
        out = minimum(out, upper)
    if lower is None and upper is None:
        (out,) = promote_args("clip", out)
    return out


def _signbit_of_float(x):
    int_dtype = {2: dtypes.int16, 4: dtypes.int32, 8: dtypes.int64}[dtype_of(x).itemsize]
    bits = lax.bitcast_convert_type(x, int_dtype)
    return lax.lt(bits, _convert_keep_weak(np.asarray(0, int_dtype)[()], int_dtype,
                                                        False))


def copysign(x1, x2, /):
    x1, x2 = promote_args_inexact("copysign", x1, x2)
    magnitude = lax.abs(x1)
    return select(_signbit_of_float(x2), lax.neg(magnitude), magnitude)


def heaviside(x1, x2, /):
    """0 for x1 < 0, x2 for x1 == 0, 1 for x1 > 0."""
    x1, x2 = promote_args_inexact("heaviside", x1, x2)
    zero = const_like(x1, 0)
    out = select(lax.gt(x1, zero), full_like_value(x1, 1), x2)
    out = select(lax.ne(x1, x1), x1, out)  # NaN x1 gives NaN, as in JAX and numpy
    return select(lax.lt(x1, zero), full_like_value(x1, 0), out)
