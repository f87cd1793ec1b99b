"""Input generators: deterministic sample data for every dtype, with the values that break
implementations (NaN, infinities, signed zeros, denormals, integer limits) mixed in.

A generator is called as ``gen(rng, shape, dtype) -> np.ndarray`` and offers
``gen.specials(dtype)``: a 1-d array of edge values the runner combines into a dedicated
"specials" sample (every pair of special values, for binary operations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ml_dtypes
import numpy as np

from plax import dtypes

__all__ = [
    "Gen",
    "between",
    "bools",
    "default_gen",
    "fixed",
    "floats",
    "ints",
    "positive",
    "shift_amounts",
    "small_ints",
    "special_floats",
    "special_ints",
    "uniform_or_ints",
]

# Groups of special float values; rows pick the groups that make sense for their domain.
SPECIAL_GROUPS = ("nonfinite", "zeros", "denormals", "limits", "ones")
BASIC_SPECIALS = ("nonfinite", "zeros", "denormals", "ones")


def _float_info(dtype: np.dtype):
    return ml_dtypes.finfo(dtype)


def special_floats(dtype, groups=SPECIAL_GROUPS) -> np.ndarray:
    """Edge values of a float dtype, in a fixed order, without duplicates."""
    dtype = np.dtype(dtype)
    info = _float_info(dtype)
    tiny = float(info.tiny)
    smallest = float(info.smallest_subnormal)
    largest_subnormal = tiny - smallest
    values = {
        "nonfinite": [np.nan, np.inf, -np.inf],
        "zeros": [0.0, -0.0],
        "denormals": [smallest, -smallest, largest_subnormal, -largest_subnormal],
        "limits": [float(info.max), -float(info.max), tiny, -tiny],
        "ones": [1.0, -1.0, 0.5, -2.5, 1.0 + float(info.eps), 3.0],
    }
    out: list[float] = []
    for group in groups:
        out.extend(values[group])
    array = np.array(out, dtype=np.float64).astype(dtype)
    # Denormals of a narrow type may coincide with other values; keep first occurrences.
    _, first = np.unique(array.view(_uint_for(dtype)), return_index=True)
    return array[np.sort(first)]


def special_ints(dtype) -> np.ndarray:
    """Integer limits and the values around zero (bool: both values)."""
    dtype = np.dtype(dtype)
    if dtype == dtypes.bool_:
        return np.array([False, True])
    info = np.iinfo(dtype)
    candidates = [info.min, info.min + 1, -2, -1, 0, 1, 2, 7, info.max // 2, info.max - 1, info.max]
    kept = [v for v in candidates if info.min <= v <= info.max]
    return np.array(list(dict.fromkeys(kept)), dtype=dtype)


def _uint_for(dtype: np.dtype) -> np.dtype:
    return np.dtype(f"uint{np.dtype(dtype).itemsize * 8}")


@dataclass(frozen=True)
class Gen:
    """A sample-data generator: ``draw(rng, shape, dtype)`` and the edge values to combine."""

    draw: Callable[[np.random.Generator, tuple, np.dtype], np.ndarray]
    edge: Callable[[np.dtype], np.ndarray] | None = None
    name: str = "gen"
    # Fraction of random positions replaced by edge values (0: only the specials sample).
    inject: float = 0.0

    def __call__(self, rng: np.random.Generator, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        with np.errstate(all="ignore"):  # out-of-range draws become inf on purpose
            out = np.asarray(self.draw(rng, tuple(shape), dtype)).astype(dtype)
        if self.inject > 0 and out.size and self.edge is not None:
            edges = self.specials(dtype)
            mask = rng.random(out.shape) < self.inject
            picks = rng.integers(0, len(edges), size=out.shape)
            out = np.where(mask, edges[picks], out).astype(dtype)
        return out

    def specials(self, dtype) -> np.ndarray:
        if self.edge is None:
            return np.zeros((0,), dtype=dtype)
        return np.asarray(self.edge(np.dtype(dtype))).astype(dtype)

    def __repr__(self) -> str:
        return self.name


def _uniform(low: float, high: float):
    def draw(rng, shape, dtype):
        return rng.uniform(low, high, size=shape)

    return draw


def floats(low: float = -3.0, high: float = 3.0, specials=SPECIAL_GROUPS,
           inject: float = 0.05) -> Gen:
    """Uniform floats in [low, high]; edge values from ``specials`` groups (None: none)."""
    groups = tuple(specials or ())
    edge = (lambda dt: special_floats(dt, groups)) if groups else None
    return Gen(_uniform(low, high), edge, f"floats({low}, {high})", inject if groups else 0.0)


def positive(low: float = 0.01, high: float = 10.0, specials=SPECIAL_GROUPS) -> Gen:
    """Positive floats (log, sqrt, ...); the specials still include zeros and negatives,
    whose results (NaN, -inf) are part of the semantics."""
    return floats(low, high, specials)


def _int_range(dtype: np.dtype, low, high):
    info = np.iinfo(dtype)
    lo = info.min if low is None else max(low, info.min)
    hi = info.max if high is None else min(high, info.max)
    return lo, hi


def ints(low: int | None = None, high: int | None = None, specials: bool = True,
         inject: float = 0.05) -> Gen:
    """Integers in [low, high] (default: the dtype's whole range, so arithmetic wraps)."""

    def draw(rng, shape, dtype):
        lo, hi = _int_range(dtype, low, high)
        return rng.integers(lo, hi, size=shape, dtype=dtype, endpoint=True)

    edge = special_ints if specials else None
    return Gen(draw, edge, f"ints({low}, {high})", inject if specials else 0.0)


def bools() -> Gen:
    def draw(rng, shape, dtype):
        return rng.random(shape) < 0.5

    return Gen(draw, special_ints, "bools()")


def small_ints(low: int = -3, high: int = 3, specials: bool = False) -> Gen:
    """Small integer values in any dtype (floats too): sums, products and dot products of
    them are exact in every summation order, so accumulation order never matters."""

    def draw(rng, shape, dtype):
        lo, hi = low, high
        if np.dtype(dtype) == dtypes.bool_:
            return rng.random(shape) < 0.5
        if dtypes.is_unsigned(dtype):
            lo = max(lo, 0)
        return rng.integers(lo, hi, size=shape, endpoint=True)

    def edge_for(dtype):
        return (special_floats(dtype, ("nonfinite", "zeros")) if dtypes.is_float(dtype)
                else special_ints(dtype))

    return Gen(draw, edge_for if specials else None, f"small_ints({low}, {high})",
               0.05 if specials else 0.0)


def uniform_or_ints(low: float = -3.0, high: float = 3.0) -> Gen:
    """Floats in [low, high] for float dtypes, the whole range for integers, random bools."""

    def draw(rng, shape, dtype):
        if np.dtype(dtype) == dtypes.bool_:
            return rng.random(shape) < 0.5
        if dtypes.is_integer(dtype):
            info = np.iinfo(dtype)
            return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
        return rng.uniform(low, high, size=shape)

    def edge(dtype):
        if dtypes.is_float(dtype):
            return special_floats(dtype)
        return special_ints(dtype)

    return Gen(draw, edge, f"uniform_or_ints({low}, {high})", 0.05)


def between(low: float, high: float) -> Gen:
    """Values in [low, high] for any dtype (integers: the whole numbers in the range,
    clipped to the dtype's range), without edge values."""

    def draw(rng, shape, dtype):
        if np.dtype(dtype) == dtypes.bool_:
            return np.full(shape, high >= 1)
        if dtypes.is_integer(dtype):
            info = np.iinfo(dtype)
            lo = min(max(int(np.ceil(low)), info.min), info.max)
            hi = max(min(int(np.floor(high)), info.max), lo)
            return rng.integers(lo, hi, size=shape, endpoint=True)
        return rng.uniform(low, high, size=shape)

    return Gen(draw, None, f"between({low}, {high})")


def shift_amounts() -> Gen:
    """Shift counts: in range, exactly the bit width, beyond it, and negative (signed)."""

    def values(dtype):
        bits = np.dtype(dtype).itemsize * 8
        wanted = [0, 1, 2, bits - 1, bits, bits + 1, 2 * bits, -1, -bits]
        info = np.iinfo(dtype)
        return np.array([v for v in wanted if info.min <= v <= info.max], dtype=dtype)

    def draw(rng, shape, dtype):
        pool = values(dtype)
        bits = np.dtype(dtype).itemsize * 8
        in_range = rng.integers(0, bits, size=shape)
        picks = pool[rng.integers(0, len(pool), size=shape)]
        return np.where(rng.random(shape) < 0.7, in_range, picks)

    return Gen(draw, values, "shift_amounts()")


def fixed(values) -> Gen:
    """Fixed data: an array, or ``values(dtype) -> array``; the sample shape is ignored."""

    def draw(rng, shape, dtype):
        data = values(dtype) if callable(values) else values
        return np.asarray(data).astype(dtype)

    return Gen(draw, None, "fixed(...)")


_DEFAULTS = {
    "b": bools(),
    "i": ints(),
    "u": ints(),
    "f": floats(),
}


def default_gen(dtype) -> Gen:
    """The generator used when a row does not name one: by dtype kind."""
    dtype = np.dtype(dtype)
    if dtype == dtypes.bfloat16:
        return _DEFAULTS["f"]
    return _DEFAULTS[dtype.kind]
