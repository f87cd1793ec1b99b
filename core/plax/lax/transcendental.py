"""Transcendental elementwise primitives: exp/log, powers and roots,
trigonometric and hyperbolic functions, and the special functions erf, erfc,
erf_inv, lgamma and digamma. Floating dtypes only.

The reference implementations evaluate in float64 and round once to the
operand's dtype, so for bfloat16, float16 and float32 they are (nearly always)
correctly rounded. XLA's kernels are approximations that may differ from them
by a few ulps; that is what the conformance tolerances allow for.
"""

from __future__ import annotations

import math

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.reference import impl_rules
from plax.lax.base import FLOATS, INTEGERS, binop, broadcast_operands, unop
from plax.interpreters.jvp import defjvp, defjvp2
from plax.lax.comparisons import eq, lt
from plax.lax.convert import convert_element_type
from plax.lax.elementwise import (
    _const,
    add,
    div,
    integer_pow,
    mul,
    neg,
    select,
    sub,
)

__all__ = [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cbrt",
    "cos",
    "cosh",
    "digamma",
    "erf",
    "erf_inv",
    "erfc",
    "exp",
    "exp2",
    "expm1",
    "lgamma",
    "log",
    "log1p",
    "logistic",
    "pow",
    "rsqrt",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
]


# ----------------------------------------------------------------------------
# Evaluation in float64 with a single rounding to the result dtype.


def _float32_round_to_odd(wide: np.ndarray) -> np.ndarray:
    """float64 -> float32 rounding to odd: truncate, then set the last bit if inexact.

    Rounding to odd first and to nearest second is the same as rounding to nearest
    once, whenever the intermediate type has two more bits than the final one
    (float32 has 24, bfloat16 8). ml_dtypes rounds float64 -> bfloat16 through
    float32 to nearest, which rounds twice.
    """
    with np.errstate(over="ignore"):
        narrow = wide.astype(np.float32)
    away_from_zero = np.abs(narrow.astype(np.float64)) > np.abs(wide)
    narrow = np.where(away_from_zero, np.nextafter(narrow, np.float32(0)), narrow)
    narrow = np.asarray(narrow, dtype=np.float32)
    inexact = (narrow.astype(np.float64) != wide) & ~np.isnan(wide)
    bits = narrow.view(np.uint32) | inexact.astype(np.uint32)
    return bits.view(np.float32)


def round_to_dtype(wide, dtype) -> np.ndarray:
    """Round float64 values once, to nearest even, to a floating dtype."""
    wide = np.asarray(wide, dtype=np.float64)
    if dtype == dtypes.bfloat16:
        return _float32_round_to_odd(wide).astype(dtypes.bfloat16)
    return wide.astype(dtype)


def _in_float64(fn):
    """A reference implementation: ``fn`` on float64 copies of the operands, then
    one rounding to the first operand's dtype."""

    def impl(*args, **params):
        dtype = np.asarray(args[0]).dtype
        wide = [np.asarray(a, dtype=np.float64) for a in args]
        return [round_to_dtype(fn(*wide, **params), dtype)]

    return impl


def _float_unop(name: str, fn) -> core.Primitive:
    p = unop(name, FLOATS)
    impl_rules[p] = _in_float64(fn)
    return p


def _vectorize(scalar_fn):
    return np.vectorize(scalar_fn, otypes=[np.float64])


# ----------------------------------------------------------------------------
# Exponentials and logarithms.

# -- exp ---------------------------------------------------------------------------
exp_p = _float_unop("exp", np.exp)
defjvp2(exp_p, lambda g, ans, x: mul(g, ans))


def exp(x):
    return exp_p.bind(x)


# -- exp2 --------------------------------------------------------------------------
exp2_p = _float_unop("exp2", np.exp2)
defjvp2(exp2_p, lambda g, ans, x: mul(g, mul(ans, _const(x, math.log(2.0)))))


def exp2(x):
    return exp2_p.bind(x)


# -- log ---------------------------------------------------------------------------
log_p = _float_unop("log", np.log)
defjvp(log_p, lambda g, x: div(g, x))


def log(x):
    return log_p.bind(x)


# -- log1p -------------------------------------------------------------------------
log1p_p = _float_unop("log1p", np.log1p)
defjvp(log1p_p, lambda g, x: div(g, add(x, _const(x, 1))))


def log1p(x):
    return log1p_p.bind(x)


# -- expm1 -------------------------------------------------------------------------
expm1_p = _float_unop("expm1", np.expm1)
defjvp2(expm1_p, lambda g, ans, x: mul(g, add(ans, _const(x, 1))))


def expm1(x):
    return expm1_p.bind(x)


# -- pow ---------------------------------------------------------------------------
def _pow_rule(x: ShapedArray, y: ShapedArray):
    integer_exponent = y.dtype in INTEGERS
    if x.dtype not in FLOATS or not (integer_exponent or y.dtype == x.dtype):
        raise TypeError(
            "lax.pow requires a floating base and an exponent of the same floating dtype "
            f"or of an integer dtype, got {x.dtype.name} and {y.dtype.name}. (Tip: "
            "lax.integer_pow raises to a static integer power; plax.numpy.power promotes "
            "its inputs.)"
        )
    if x.shape != y.shape:
        raise TypeError(
            f"lax.pow requires arguments to have the same shapes, got {x.shape}, {y.shape}"
        )
    return [ShapedArray(x.shape, x.dtype, x.weak_type and y.weak_type)]


def _pow_impl(x, y):
    # An integer exponent is first converted to the base's dtype, as JAX does
    # (so a huge int32 exponent rounds, and overflows float16 to inf).
    x = np.asarray(x)
    y = np.asarray(y).astype(x.dtype)
    with np.errstate(all="ignore"):
        wide = np.power(x.astype(np.float64), y.astype(np.float64))
    return [round_to_dtype(wide, x.dtype)]


def _pow_jvp_base(g, ans, x, y):
    # y * x ** (y - 1); an integer exponent takes the base's dtype first.
    y = y if core.get_aval(y).dtype == core.get_aval(x).dtype else convert_element_type(
        y, core.get_aval(x).dtype)
    return mul(g, mul(y, pow(x, sub(y, _const(y, 1)))))


def _pow_jvp_exponent(g, ans, x, y):
    # log(x) * x ** y, with log(0) read as 0 so that 0 ** y has a finite slope in y.
    safe_x = select(eq(x, _const(x, 0)), add(x, _const(x, 1)), x)
    return mul(g, mul(log(safe_x), ans))


pow_p = core.Primitive("pow")
core.abstract_eval_rules[pow_p] = _pow_rule
impl_rules[pow_p] = _pow_impl
defjvp2(pow_p, _pow_jvp_base, _pow_jvp_exponent)
batching.defbroadcasting(pow_p)


def pow(x, y):
    """``x ** y`` for a floating ``x``; ``y`` has x's dtype or any integer dtype."""
    x, y = broadcast_operands("pow", x, y)
    return pow_p.bind(x, y)


# ----------------------------------------------------------------------------
# Roots.

# -- sqrt --------------------------------------------------------------------------
sqrt_p = _float_unop("sqrt", np.sqrt)
defjvp2(sqrt_p, lambda g, ans, x: mul(g, div(_const(x, 0.5), ans)))


def sqrt(x):
    return sqrt_p.bind(x)


# -- rsqrt -------------------------------------------------------------------------
rsqrt_p = _float_unop("rsqrt", lambda x: 1.0 / np.sqrt(x))
defjvp2(rsqrt_p, lambda g, ans, x: mul(g, mul(_const(x, -0.5), div(ans, x))))


def rsqrt(x):
    """``1 / sqrt(x)``; rsqrt(-0.0) is -inf."""
    return rsqrt_p.bind(x)


# -- cbrt --------------------------------------------------------------------------
cbrt_p = _float_unop("cbrt", np.cbrt)
defjvp2(cbrt_p, lambda g, ans, x: mul(g, mul(_const(x, 1 / 3), integer_pow(ans, -2))))


def cbrt(x):
    return cbrt_p.bind(x)


# ----------------------------------------------------------------------------
# Trigonometric functions.

# -- sin ---------------------------------------------------------------------------
sin_p = _float_unop("sin", np.sin)
defjvp(sin_p, lambda g, x: mul(g, cos(x)))


def sin(x):
    return sin_p.bind(x)


# -- cos ---------------------------------------------------------------------------
cos_p = _float_unop("cos", np.cos)
defjvp(cos_p, lambda g, x: neg(mul(g, sin(x))))


def cos(x):
    return cos_p.bind(x)


# -- tan ---------------------------------------------------------------------------
tan_p = _float_unop("tan", np.tan)
defjvp2(tan_p, lambda g, ans, x: mul(g, add(_const(x, 1), mul(ans, ans))))


def tan(x):
    return tan_p.bind(x)


# -- asin --------------------------------------------------------------------------
asin_p = _float_unop("asin", np.arcsin)
defjvp(asin_p, lambda g, x: mul(g, rsqrt(sub(_const(x, 1), mul(x, x)))))


def asin(x):
    return asin_p.bind(x)


# -- acos --------------------------------------------------------------------------
acos_p = _float_unop("acos", np.arccos)
defjvp(acos_p, lambda g, x: neg(mul(g, rsqrt(sub(_const(x, 1), mul(x, x))))))


def acos(x):
    return acos_p.bind(x)


# -- atan --------------------------------------------------------------------------
atan_p = _float_unop("atan", np.arctan)
defjvp(atan_p, lambda g, x: div(g, add(_const(x, 1), mul(x, x))))


def atan(x):
    return atan_p.bind(x)


# -- atan2 -------------------------------------------------------------------------
atan2_p = binop("atan2", FLOATS)
impl_rules[atan2_p] = _in_float64(np.arctan2)
defjvp(
    atan2_p,
    lambda g, x, y: mul(g, div(y, add(mul(x, x), mul(y, y)))),
    lambda g, x, y: mul(g, div(neg(x), add(mul(x, x), mul(y, y)))),
)


def atan2(x, y):
    """``atan(x / y)`` with the quadrant taken from the signs of both (C's atan2(x, y))."""
    x, y = broadcast_operands("atan2", x, y)
    return atan2_p.bind(x, y)


# ----------------------------------------------------------------------------
# Hyperbolic functions.

# -- sinh --------------------------------------------------------------------------
sinh_p = _float_unop("sinh", np.sinh)
defjvp(sinh_p, lambda g, x: mul(g, cosh(x)))


def sinh(x):
    return sinh_p.bind(x)


# -- cosh --------------------------------------------------------------------------
cosh_p = _float_unop("cosh", np.cosh)
defjvp(cosh_p, lambda g, x: mul(g, sinh(x)))


def cosh(x):
    return cosh_p.bind(x)


# -- tanh --------------------------------------------------------------------------
tanh_p = _float_unop("tanh", np.tanh)
defjvp2(tanh_p, lambda g, ans, x: mul(g, sub(_const(x, 1), mul(ans, ans))))


def tanh(x):
    return tanh_p.bind(x)


# -- asinh -------------------------------------------------------------------------
asinh_p = _float_unop("asinh", np.arcsinh)
defjvp(asinh_p, lambda g, x: mul(g, rsqrt(add(mul(x, x), _const(x, 1)))))


def asinh(x):
    return asinh_p.bind(x)


# -- acosh -------------------------------------------------------------------------
acosh_p = _float_unop("acosh", np.arccosh)
defjvp(
    acosh_p,
    lambda g, x: mul(g, rsqrt(mul(sub(x, _const(x, 1)), add(x, _const(x, 1))))),
)


def acosh(x):
    return acosh_p.bind(x)


# -- atanh -------------------------------------------------------------------------
atanh_p = _float_unop("atanh", np.arctanh)
defjvp(atanh_p, lambda g, x: div(g, sub(_const(x, 1), mul(x, x))))


def atanh(x):
    return atanh_p.bind(x)


# -- logistic ----------------------------------------------------------------------
def _logistic64(x):
    # Only ever exp of a non-positive number, so nothing overflows on the way.
    decay = np.exp(-np.abs(x))
    positive = 1.0 / (1.0 + decay)
    return np.where(x >= 0, positive, decay * positive)


logistic_p = _float_unop("logistic", _logistic64)
defjvp2(logistic_p, lambda g, ans, x: mul(g, mul(ans, sub(_const(x, 1), ans))))


def logistic(x):
    """``1 / (1 + exp(-x))``."""
    return logistic_p.bind(x)


# ----------------------------------------------------------------------------
# Special functions (float64 numerics, see the tests for their accuracy).

# -- erf ---------------------------------------------------------------------------
_erf64 = _vectorize(math.erf)
erf_p = _float_unop("erf", _erf64)
defjvp(erf_p, lambda g, x: mul(g, mul(_const(x, 2 / math.sqrt(math.pi)), exp(neg(mul(x, x))))))


def erf(x):
    return erf_p.bind(x)


# -- erfc --------------------------------------------------------------------------
_erfc64 = _vectorize(math.erfc)
erfc_p = _float_unop("erfc", _erfc64)
defjvp(erfc_p, lambda g, x: mul(g, mul(_const(x, -2 / math.sqrt(math.pi)), exp(neg(mul(x, x))))))


def erfc(x):
    """``1 - erf(x)``, accurate where erf(x) is close to 1."""
    return erfc_p.bind(x)


# -- erf_inv -----------------------------------------------------------------------
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_WINITZKI_A = 0.147


def _erf_inv_initial(a):
    """A first guess for erf_inv(a), a in [0, 1): the Maclaurin series below 0.5 and
    Winitzki's closed form (relative error ~2e-3) above."""
    series = (math.sqrt(math.pi) / 2) * (
        a
        + (math.pi / 12) * a**3
        + (7 * math.pi**2 / 480) * a**5
        + (127 * math.pi**3 / 40320) * a**7
    )
    log_term = np.log((1.0 - a) * (1.0 + a))
    t = 2.0 / (math.pi * _WINITZKI_A) + log_term / 2.0
    # sqrt(t^2 - L/a) - t without the cancellation for small |L|.
    radicand = -log_term / _WINITZKI_A
    closed = np.sqrt(radicand / (np.sqrt(t * t + radicand) + t))
    return np.where(a <= 0.5, series, closed)


def _erf_inv64(x):
    a = np.abs(x)
    inside = a < 1
    a_in = np.where(inside, a, 0.0)
    y = _erf_inv_initial(a_in)
    # Halley's method on f(y) = erf(y) - a. Above 0.5, f is evaluated as
    # (1 - a) - erfc(y), whose both terms are exact or accurate near the tail.
    tail = a_in > 0.5
    for _ in range(3):
        residual = np.where(tail, (1.0 - a_in) - _erfc64(y), _erf64(y) - a_in)
        slope = _TWO_OVER_SQRT_PI * np.exp(-y * y)
        step = residual / slope
        y = y - step / (1.0 + y * step)
    y = np.where(a == 1, np.inf, np.where(inside, y, np.nan))
    return np.copysign(y, x)


erf_inv_p = _float_unop("erf_inv", _erf_inv64)
defjvp2(
    erf_inv_p,
    lambda g, ans, x: mul(g, mul(_const(x, math.sqrt(math.pi) / 2), exp(mul(ans, ans)))),
)


def erf_inv(x):
    """The inverse of erf on (-1, 1); +-inf at +-1 and NaN outside."""
    return erf_inv_p.bind(x)


# -- lgamma ------------------------------------------------------------------------
def _lgamma_scalar(v: float) -> float:
    # The poles (0 and the negative integers, -inf included) give +inf, and so does
    # a result beyond the float64 range (math.lgamma raises there).
    if v <= 0 and (math.isinf(v) or math.floor(v) == v):
        return math.inf
    try:
        return math.lgamma(v)
    except OverflowError:
        return math.inf


lgamma_p = _float_unop("lgamma", _vectorize(_lgamma_scalar))
defjvp(lgamma_p, lambda g, x: mul(g, digamma(x)))


def lgamma(x):
    """``log(abs(gamma(x)))``."""
    return lgamma_p.bind(x)


# -- digamma -----------------------------------------------------------------------
# psi(x) ~ log(x) - 1/(2x) - sum B_2k / (2k x^2k); the coefficients B_2k / 2k.
_DIGAMMA_ASYMPTOTIC = (
    1.0 / 12,
    -1.0 / 120,
    1.0 / 252,
    -1.0 / 240,
    1.0 / 132,
    -691.0 / 32760,
    1.0 / 12,
)
_DIGAMMA_SHIFT = 10.0


def _digamma_positive(x):
    """psi(x) for x > 0: recur up to x >= 10, where the asymptotic series has
    converged to float64 precision."""
    acc = np.zeros_like(x)
    for _ in range(int(_DIGAMMA_SHIFT)):
        small = x < _DIGAMMA_SHIFT
        acc = acc - np.where(small, 1.0 / x, 0.0)
        x = np.where(small, x + 1.0, x)
    inv_sq = 1.0 / (x * x)
    series = np.zeros_like(x)
    for coefficient in reversed(_DIGAMMA_ASYMPTOTIC):
        series = (series + coefficient) * inv_sq
    return acc + np.log(x) - 0.5 / x - series


def _digamma64(x):
    # Poles at 0 and the negative integers give NaN, as in JAX; so does -inf.
    pole = (x <= 0) & (np.floor(x) == x)
    negative = x < 0
    safe = np.where(pole | np.isnan(x), 1.0, x)
    # Reflection: psi(x) = psi(1 - x) - pi / tan(pi x); the period-1 reduction keeps
    # tan's argument small and exact.
    reduced = safe - np.round(safe)
    reflected = np.where(negative, 1.0 - safe, safe)
    value = _digamma_positive(reflected)
    value = np.where(negative, value - math.pi / np.tan(math.pi * reduced), value)
    value = np.where(np.isposinf(x), np.inf, value)
    return np.where(pole | np.isnan(x), np.nan, value)


def _trigamma(x):
    """psi'(x), for digamma's derivative (plax has no polygamma): reflect x < 1/2 with
    psi'(1 - x) + psi'(x) = pi^2 / sin^2(pi x), step up by 6 with psi'(y) = psi'(y + 1) +
    1 / y^2, then the asymptotic series at y + 6 (error below 1e-10 there)."""
    one = _const(x, 1)
    reflect = lt(x, _const(x, 0.5))
    y = select(reflect, sub(one, x), x)
    total = integer_pow(y, -2)
    for i in range(1, 6):
        total = add(total, integer_pow(add(y, _const(x, i)), -2))
    z = add(y, _const(x, 6))
    r = integer_pow(z, -1)
    r2 = mul(r, r)
    series = add(_const(x, 1 / 6), mul(r2, add(_const(x, -1 / 30), mul(r2, add(
        _const(x, 1 / 42), mul(r2, _const(x, -1 / 30)))))))
    tail = mul(r, add(one, mul(r, add(_const(x, 0.5), mul(r, series)))))
    positive = add(total, tail)
    pi_x = mul(_const(x, math.pi), x)
    reflected = sub(div(_const(x, math.pi**2), mul(sin(pi_x), sin(pi_x))), positive)
    return select(reflect, reflected, positive)


digamma_p = _float_unop("digamma", _digamma64)
defjvp(digamma_p, lambda g, x: mul(g, _trigamma(x)))


def digamma(x):
    """The logarithmic derivative of the gamma function."""
    return digamma_p.bind(x)
