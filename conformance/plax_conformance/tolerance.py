"""Tolerance policies and the comparison of a backend's result with the reference.

A ``Policy`` gives each dtype a ``Tol``. Integer, boolean and bitwise results, and data
movement, are compared exactly. Float results are compared in ulps (units in the last
place): the distance between two floats counted in representable values, so one
tolerance means the same thing at every magnitude. An optional absolute floor (in
multiples of the dtype's epsilon) covers results near zero of functions such as ``sin``
near ``pi``, where any correctly rounded implementation differs by many ulps.

NaN matches NaN (any payload), an infinity matches only the same infinity, and +0.0
matches -0.0 except under ``signed_zeros`` (data movement must preserve the sign bit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ml_dtypes
import numpy as np

from plax import dtypes

__all__ = ["BITWISE", "EXACT", "Comparison", "Policy", "Tol", "compare", "ulp", "ulp_distance"]


@dataclass(frozen=True)
class Tol:
    """Allowed error for one dtype: ``ulp`` ulps, or ``atol``/``rtol`` in units of eps."""

    ulp: float = 0
    atol: float = 0.0
    rtol: float = 0.0
    signed_zeros: bool = False

    @property
    def exact(self) -> bool:
        return self.ulp == 0 and self.atol == 0 and self.rtol == 0

    def describe(self) -> str:
        if self.exact:
            return "bit-exact" if self.signed_zeros else "exact"
        parts = [f"{self.ulp:g} ulp"]
        if self.atol:
            parts.append(f"atol {self.atol:g} eps")
        if self.rtol:
            parts.append(f"rtol {self.rtol:g} eps")
        return ", ".join(parts)


@dataclass(frozen=True)
class Policy:
    """A tolerance per dtype; dtypes not listed use ``default``. Non-float dtypes are
    always compared exactly, whatever the policy says."""

    default: Tol = Tol()
    by_dtype: tuple = field(default=())  # ((dtype name, Tol), ...) -- hashable

    def for_dtype(self, dtype) -> Tol:
        dtype = np.dtype(dtype)
        if not dtypes.is_float(dtype):
            return Tol(signed_zeros=self.default.signed_zeros)
        for name, tol in self.by_dtype:
            if name == dtype.name:
                return tol
        return self.default

    def describe(self, dtype) -> str:
        return self.for_dtype(dtype).describe()

    def with_dtype(self, dtype, tol: Tol) -> "Policy":
        name = np.dtype(dtype).name
        rest = tuple((n, t) for n, t in self.by_dtype if n != name)
        return Policy(self.default, rest + ((name, tol),))


EXACT = Policy(Tol())
BITWISE = Policy(Tol(signed_zeros=True))
_HALF = ("float16", "bfloat16")


def ulp(n: float, half: float | None = None, atol: float = 0.0, rtol: float = 0.0,
        half_atol: float | None = None) -> Policy:
    """``n`` ulps for float32/float64 and ``half`` (default: up to 2) for float16/bfloat16.

    Half types are usually computed in float32 and rounded, which lands within an ulp
    or two of the correctly rounded result however accurate the float32 routine is.
    """
    half = min(n, 2) if half is None else half
    half_atol = atol if half_atol is None else half_atol
    by = tuple((name, Tol(half, half_atol, rtol)) for name in _HALF)
    return Policy(Tol(n, atol, rtol), by)


# ----------------------------------------------------------------------------
# Comparison.


@dataclass
class Comparison:
    ok: bool
    mismatches: int = 0
    max_abs_error: float = 0.0
    max_ulp_error: float = 0.0
    index: tuple | None = None  # first offending element
    expected: object = None
    actual: object = None
    message: str = ""

    def to_json(self) -> dict:
        return {
            "mismatches": self.mismatches,
            "max_abs_error": _finite_or_str(self.max_abs_error),
            "max_ulp_error": _finite_or_str(self.max_ulp_error),
            "index": list(self.index) if self.index is not None else None,
            "expected": _scalar_json(self.expected),
            "actual": _scalar_json(self.actual),
            "message": self.message,
        }


def _finite_or_str(value: float):
    value = float(value)
    return value if np.isfinite(value) else str(value)


def _scalar_json(value):
    if value is None:
        return None
    value = np.asarray(value)
    if value.dtype == dtypes.bool_:
        return bool(value)
    if dtypes.is_integer(value.dtype):
        return int(value)
    return repr(float(value))


def _ordinal(x: np.ndarray) -> np.ndarray:
    """Map floats to integers that are consecutive for consecutive floats (-0 == +0)."""
    bits = np.dtype(x.dtype).itemsize * 8
    signed = x.view(np.dtype(f"int{bits}")).astype(np.int64)
    magnitude = signed & np.int64((1 << (bits - 1)) - 1)
    return np.where(signed < 0, -magnitude, magnitude)


def ulp_distance(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Element-wise distance in ulps as float64 (inf where exactly one side is NaN)."""
    a = _ordinal(np.array(expected))
    b = _ordinal(np.array(actual))
    same_side = (a >= 0) == (b >= 0)
    # Same sign: the int64 difference is exact. Opposite signs: the distance may exceed
    # int64, and is so large that float64 rounding does not matter.
    near = np.abs(np.where(same_side, a - b, 0)).astype(np.float64)
    far = np.abs(a).astype(np.float64) + np.abs(b).astype(np.float64)
    dist = np.where(same_side, near, far)
    nan_e = np.isnan(expected)
    nan_a = np.isnan(actual)
    dist = np.where(nan_e & nan_a, 0.0, dist)
    return np.where(nan_e ^ nan_a, np.inf, dist)


def _eps(dtype) -> float:
    return float(ml_dtypes.finfo(dtype).eps)


def compare(expected, actual, tol: Tol) -> Comparison:
    """Compare arrays of the same dtype and shape under ``tol``."""
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    if expected.size == 0:
        return Comparison(True)
    with np.errstate(all="ignore"):
        if dtypes.is_float(expected.dtype):
            return _compare_floats(expected, actual, tol)
        return _compare_exact(expected, actual)


def _compare_exact(expected: np.ndarray, actual: np.ndarray) -> Comparison:
    bad = expected != actual
    count = int(np.count_nonzero(bad))
    if expected.dtype == dtypes.bool_:
        abs_err = float(count > 0)
    else:
        diff = np.abs(expected.astype(object) - actual.astype(object)) if count else [0]
        abs_err = float(max(int(d) for d in np.ravel(diff)))
    return _finish(bad, count, abs_err, abs_err, expected, actual)


def _compare_floats(expected: np.ndarray, actual: np.ndarray, tol: Tol) -> Comparison:
    e64 = expected.astype(np.float64)
    a64 = actual.astype(np.float64)
    ulps = ulp_distance(expected, actual)
    nan_e = np.isnan(e64)
    nan_a = np.isnan(a64)
    with np.errstate(invalid="ignore", over="ignore"):
        abs_err = np.where(e64 == a64, 0.0, np.abs(e64 - a64))
    abs_err = np.where(nan_e & nan_a, 0.0, abs_err)
    abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)  # NaN against a number
    inf_mismatch = (np.isinf(e64) | np.isinf(a64)) & (e64 != a64)
    eps = _eps(expected.dtype)
    allowed = tol.atol * eps
    if tol.rtol:
        finite = np.where(np.isfinite(e64), e64, 0.0)
        allowed = allowed + tol.rtol * eps * np.abs(finite)
    bad = (ulps > tol.ulp) & ~(abs_err <= allowed)
    bad |= inf_mismatch | (nan_e ^ nan_a)
    if tol.signed_zeros:
        zeros = (e64 == 0) & (a64 == 0)
        bad |= zeros & (np.signbit(e64) != np.signbit(a64))
        ulps = np.where(zeros & (np.signbit(e64) != np.signbit(a64)), 1.0, ulps)
    count = int(np.count_nonzero(bad))
    return _finish(bad, count, float(np.max(abs_err)), float(np.max(ulps)), expected, actual)


def _finish(bad, count, abs_err, ulp_err, expected, actual) -> Comparison:
    if not count:
        return Comparison(True, 0, abs_err, ulp_err)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return Comparison(
        False,
        count,
        abs_err,
        ulp_err,
        index,
        expected[index],
        actual[index],
        f"{count} of {expected.size} elements differ; first at index {list(index)}: "
        f"expected {_show(expected[index])}, got {_show(actual[index])}",
    )


def _show(value) -> str:
    value = np.asarray(value)
    if dtypes.is_float(value.dtype):
        return repr(float(value))
    return repr(value.item())
