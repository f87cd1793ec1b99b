"""Regenerate tests/data/numpy_jax_cases.json: plax.numpy expressions evaluated with JAX.

Run with an environment that has JAX installed (x64 disabled, the default):

    python tests/data/generate_numpy_cases.py

Each expression is written with ``xp`` standing for the numpy module under test
(``jax.numpy`` here, ``plax.numpy`` in tests/test_numpy_jax_parity.py) and
``np`` for numpy. For each one the file records the result's dtype, shape,
weak type and flat values (NaN as null, infinities as the strings "inf" and
"-inf"), or the exception's class name when JAX raises.
"""

import json
import math
import os

import jax.numpy as xp  # noqa: F401 - the expressions refer to it
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

EXPRESSIONS = r"""
# Promotion and weak types
xp.asarray(1.0)
xp.asarray(2) + 1.5
xp.ones(3, xp.float16) * 2
xp.ones(3, xp.float16) + 1.5
xp.ones(3, xp.bfloat16) + xp.ones(3, xp.float16)
xp.ones(3, xp.uint8) + xp.ones(3, xp.int8)
xp.ones(3, xp.uint32) + xp.ones(3, xp.int32)
xp.ones(3, xp.uint8) - 300
xp.ones(2, bool) + 1
xp.full((2,), 1.0) * 3
xp.full((2,), 1.0) + xp.ones(2, xp.float16)
xp.full((2,), 1) + xp.ones(2, xp.int8)
# Arithmetic
xp.arange(5) / 2
xp.arange(-5, 5) // 3
xp.arange(-5, 5) % 3
xp.arange(-5, 5) % -3
xp.arange(-5.0, 5.0) % 3
xp.arange(-5.0, 5.0) // -3
xp.floor_divide(xp.arange(-3, 3), 0)
xp.remainder(xp.arange(-3, 3), 0)
xp.fmod(xp.arange(-3, 3), 0)
xp.fmod(xp.arange(-3.0, 3.0), 2.0)
xp.divmod(xp.arange(-3, 3), 2)[0]
xp.true_divide(xp.arange(-1, 2), 0)
xp.power(xp.arange(-3, 4), 3)
xp.power(xp.arange(-3, 4), xp.arange(7))
xp.power(xp.arange(-3, 4), -xp.arange(7))
xp.power(xp.arange(1.0, 4.0), xp.arange(3))
xp.power(2.0, xp.arange(3))
xp.arange(4) ** 0.5
xp.arange(1.0, 4.0) ** -2
xp.float_power(xp.arange(4), 2)
xp.sqrt(xp.arange(4, dtype=xp.int8))
xp.sqrt(2)
xp.exp(xp.ones(2, xp.bfloat16))
xp.abs(xp.arange(-2, 2, dtype=xp.int8))
xp.abs(xp.array([-128], xp.int8))
xp.sign(xp.array([-2.0, -0.0, 0.0, 3.0, np.nan]))
xp.sign(xp.arange(-2, 2))
xp.round(xp.array([0.5, 1.5, 2.5, -2.5, 0.125]), 2)
xp.round(xp.array([0.5, 1.5, 2.5, -2.5]).astype(xp.float16))
xp.round(xp.array([1234.5, -55.0]), -1)
xp.round(2.5)
xp.rint(xp.array([0.5, 1.5, -0.5]))
xp.rint(xp.arange(2))
xp.floor(xp.arange(3))
xp.trunc(xp.array([-1.5, 1.5]))
xp.ceil(xp.array([-1.5, 1.5], xp.bfloat16))
xp.square(xp.array([True, False]))
xp.reciprocal(xp.arange(1, 4))
xp.log2(xp.array([1.0, 8.0, 0.5]))
xp.log10(xp.arange(1, 4))
xp.log1p(xp.array([-1.0, 0.0, 1e-7]))
xp.arctan2(xp.array([1.0, -1.0, 0.0]), xp.array([-1.0, -1.0, -0.0]))
xp.hypot(3, 4)
xp.hypot(xp.array([np.inf, np.nan]), xp.array([np.nan, np.inf]))
xp.logaddexp(xp.array([1.0, -np.inf, np.inf]), xp.array([2.0, -np.inf, np.inf]))
xp.logaddexp2(1.0, 1.0)
xp.copysign(xp.arange(3), -1)
xp.heaviside(xp.array([-1.0, 0.0, 1.0]), 0.5)
xp.maximum(xp.array([1.0, np.nan]), 0.0)
xp.minimum(xp.array([1, 2], xp.uint8), -1)
xp.fmin(xp.array([1.0, np.nan]), 0.0)
xp.fmax(xp.array([np.nan, np.nan]), xp.array([np.nan, 2.0]))
xp.clip(xp.arange(5), 1, 3)
xp.clip(xp.arange(5), 1.5, 3)
xp.clip(xp.arange(5, dtype=xp.uint8), max=2)
xp.clip(xp.array([1.0, np.nan]), 0, 0.5)
xp.deg2rad(180)
xp.sinc(xp.array([0.0, 0.5, 1.0]))
# Comparisons, logic, bits
xp.full((2,), 1.0) > 0
xp.equal(xp.arange(3), 1.0)
xp.where(xp.arange(3) > 1, xp.arange(3), 1.5)
xp.where(True, 1, 2)
xp.where(xp.array([1, 0]), xp.ones(2, xp.int8), 2.0)
xp.isclose(xp.array([1.0, np.inf, np.nan, -np.inf]), xp.array([1.000001, np.inf, np.nan, np.inf]))
xp.isclose(xp.array([np.nan]), np.nan, equal_nan=True)
xp.allclose(xp.ones(2), 1.0)
xp.array_equal(xp.ones(2), xp.ones(3))
xp.logical_xor(xp.arange(3), 1.0)
xp.logical_not(xp.full((2,), 0.0))
xp.bitwise_xor(xp.arange(4, dtype=xp.uint8), 255)
xp.bitwise_and(xp.array([True, False]), True)
xp.left_shift(xp.arange(3, dtype=xp.int8), 7)
xp.left_shift(xp.arange(3), 40)
xp.right_shift(xp.arange(-3, 3, dtype=xp.int8), 1)
xp.right_shift(xp.arange(-3, 3), 40)
xp.right_shift(xp.arange(3, dtype=xp.uint8), 1)
xp.invert(xp.arange(3, dtype=xp.uint16))
xp.signbit(xp.array([-0.0, 0.0, -np.nan, -1.0]))
xp.nan_to_num(xp.array([np.nan, np.inf, -np.inf], xp.float16))
xp.isinf(xp.arange(2))
xp.isfinite(xp.array([np.nan, 1.0, -np.inf]))
# Reductions
xp.sum(xp.arange(6, dtype=xp.int8).reshape(2, 3), axis=0)
xp.sum(xp.arange(6, dtype=xp.uint16), keepdims=True)
xp.sum(xp.ones((2, 3), bool), axis=1)
xp.sum(xp.full((2,), 1.0))
xp.sum(xp.full((4096,), 0.1, xp.float16))
xp.prod(xp.arange(1, 5, dtype=xp.int16))
xp.prod(xp.array([], xp.int32))
xp.max(xp.arange(6).reshape(2, 3), axis=-1)
xp.max(xp.array([True, False]))
xp.min(xp.array([1.0, np.nan]))
xp.mean(xp.arange(6).reshape(2, 3), axis=(0, 1))
xp.mean(xp.ones(4, xp.float16))
xp.mean(xp.zeros((0,)))
xp.var(xp.arange(6.0).reshape(2, 3), axis=1, ddof=1)
xp.var(xp.ones(3), ddof=3)
xp.std(xp.arange(6, dtype=xp.int8))
xp.any(xp.arange(3), axis=0)
xp.all(xp.array([[True, False], [True, True]]), axis=1, keepdims=True)
xp.argmax(xp.array([[1.0, 3.0], [np.nan, 0.0]]), axis=1)
xp.argmax(xp.ones((2, 3)), keepdims=True)
xp.argmin(xp.array([[1, 3], [-1, 0]]))
xp.cumsum(xp.arange(6, dtype=xp.int8).reshape(2, 3), axis=1)
xp.cumprod(xp.arange(1, 5, dtype=xp.float16))
xp.cumsum(xp.array([True, True]))
xp.count_nonzero(xp.array([[0, 1], [2, 0]]), axis=1)
xp.ptp(xp.arange(5.0))
xp.median(xp.arange(6.0).reshape(2, 3), axis=1)
xp.median(xp.array([1.0, np.nan, 3.0]))
xp.average(xp.arange(4.0), weights=xp.arange(4.0))
xp.nanmax(xp.array([np.nan, 1.0]))
xp.nansum(xp.array([np.nan, 1.0]))
xp.sum(xp.arange(4), where=xp.array([True, False, True, False]))
xp.max(xp.arange(4), initial=10)
# Shapes
xp.reshape(xp.arange(6), (3, -1))
xp.transpose(xp.arange(6).reshape(1, 2, 3), (2, 0, 1))
xp.moveaxis(xp.ones((2, 3, 4)), -1, 0)
xp.squeeze(xp.ones((1, 2, 1)))
xp.expand_dims(xp.arange(3), (0, 2))
xp.broadcast_to(xp.arange(3), (2, 3))
xp.flip(xp.arange(6).reshape(2, 3), 1)
xp.roll(xp.arange(5), -2)
xp.rot90(xp.arange(6).reshape(2, 3))
xp.tile(xp.arange(2), (2, 2))
xp.repeat(xp.arange(3), 2)
xp.repeat(xp.arange(4).reshape(2, 2), xp.array([1, 2]), axis=1)
xp.atleast_3d(xp.arange(2))
xp.diagonal(xp.arange(12).reshape(3, 4), -1)
xp.trace(xp.arange(9).reshape(3, 3))
xp.concatenate([xp.arange(2), xp.ones(2)])
xp.concatenate([xp.ones((2, 2)), xp.zeros((1, 2), xp.int8)])
xp.concatenate([xp.ones((2, 2)), xp.zeros((3,))], axis=None)
xp.stack([xp.arange(2), xp.arange(2)], axis=1)
xp.vstack([xp.arange(2), xp.arange(2)])
xp.hstack([xp.arange(2.0), xp.arange(2)])
xp.dstack([xp.arange(2), xp.arange(2)])
xp.split(xp.arange(6), 3)[1]
xp.array_split(xp.arange(7), 3)[0]
# Products and convolutions
xp.matmul(xp.ones((2, 3)), xp.ones(3))
xp.matmul(xp.ones((4, 2, 3), xp.int8), xp.ones((3, 5), xp.int8))
xp.matmul(xp.full((2, 2), 1.0), xp.full((2, 2), 1.0))
xp.dot(xp.ones((2, 3)), xp.ones((3, 2)))
xp.dot(xp.ones(3, xp.bfloat16), xp.ones(3, xp.bfloat16))
xp.vdot(xp.arange(3), xp.arange(3))
xp.inner(xp.arange(3.0), xp.arange(3.0))
xp.outer(xp.arange(2), xp.arange(3))
xp.kron(xp.eye(2), xp.arange(2))
xp.tensordot(xp.ones((2, 3)), xp.ones((3, 2)), 1)
xp.einsum("ij,jk->ik", xp.ones((2, 3)), xp.ones((3, 4)))
xp.einsum("ii", xp.arange(9.0).reshape(3, 3))
xp.einsum("ij->j", xp.arange(6).reshape(2, 3))
xp.einsum("i,i", xp.ones(3, xp.int8), xp.ones(3, xp.int8))
xp.convolve(xp.array([1, 2, 1]), xp.ones(10))
xp.convolve(xp.arange(3), xp.arange(5), "same")
xp.correlate(xp.arange(3.0), xp.arange(5.0), "full")
xp.correlate(xp.arange(5.0), xp.array([1.0, 0.5]), "valid")
# Sorting
xp.sort(xp.array([3, 1, 2]))
xp.sort(xp.array([np.nan, -0.0, 0.0, -np.inf, 1.0]))
xp.argsort(xp.array([3.0, np.nan, 1.0, 1.0]))
xp.argsort(xp.array([3, 1, 1, 2]), descending=True)
xp.searchsorted(xp.arange(5), 2.5)
xp.searchsorted(xp.array([1.0, 2.0, np.nan]), xp.array([np.nan, 2.0]), side="right")
# Creation
xp.linspace(0, 1, 7)
xp.linspace(1, 0, 4, endpoint=False, dtype=xp.float16)
xp.linspace(0, 10, 4, dtype=int)
xp.arange(1, 2, 0.1)
xp.arange(10, 0, -3)
xp.arange(5.0, dtype=xp.bfloat16)
xp.eye(3, 2, 1, dtype=int)
xp.identity(2, dtype=bool)
xp.tri(3)
xp.tril(xp.ones((3, 3)), -1)
xp.triu(xp.ones((2, 3)), 1)
xp.full((2,), 3)
xp.full_like(xp.ones(2, xp.int8), 300.5)
xp.zeros_like(xp.ones(2), dtype=bool)
xp.ones_like(3)
xp.array([[1, 2.0], [3, 4]])
xp.array([xp.float16(1), 2])
xp.array(np.array([1.0, 2.0]))
xp.asarray(np.int64(7))
# Indexing
xp.arange(10)[2:8:3]
xp.arange(10)[::-3]
xp.arange(10)[-3:]
xp.arange(10)[xp.asarray(12)]
xp.arange(10)[xp.asarray(-3)]
xp.arange(12).reshape(3, 4)[1:, ::-1]
xp.arange(12).reshape(3, 4)[..., None, 0]
xp.arange(12).reshape(3, 4)[xp.array([2, 0])]
xp.arange(12).reshape(3, 4)[xp.array([5, -5])]
xp.arange(12).reshape(3, 4)[:, xp.array([[1], [3]])]
xp.arange(24).reshape(2, 3, 4)[0, :, xp.array([1, 2])]
xp.arange(5).at[1:3].set(9)
xp.arange(5).at[::2].add(10)
xp.arange(5).at[::-2].set(xp.array([7, 8, 9]))
xp.arange(5.0).at[-1].multiply(3)
xp.arange(5).at[2].min(-1)
xp.arange(5).at[0].max(9)
xp.arange(5).at[7].set(9)
xp.arange(5).at[1].add(2.7)
xp.full((3,), 1.0).at[0].set(5.0)
xp.arange(6).reshape(2, 3).at[:, 1].set(xp.array([7, 8]))
xp.arange(6).reshape(2, 3).at[1].set(xp.array([7, 8, 9]))
xp.arange(6).reshape(2, 3).at[..., ::2].add(1)
# Conversions and operators
xp.arange(3).astype(xp.float16)
xp.array([1.7, -1.7]).astype(xp.int8)
xp.array([300.0, -5.0]).astype(xp.uint8)
xp.array([np.nan, np.inf, -np.inf]).astype(xp.int32)
xp.array([0.5, 0.0]).astype(bool)
(xp.arange(3) < 2) & (xp.arange(3) > 0)
-xp.arange(3, dtype=xp.uint8)
xp.arange(6).reshape(2, 3).T
xp.arange(6.0).reshape(2, 3).mean(0)
xp.arange(6).reshape(2, 3).sum(axis=1, keepdims=True)
abs(xp.array([-1.5]))
xp.arange(3) @ xp.arange(3)
2 - xp.arange(3, dtype=xp.int8)
2.5 * xp.arange(3, dtype=xp.int8)
7 // xp.arange(1, 4)
2 ** xp.arange(4)
xp.arange(4) ** 2
~xp.array([True, False])
xp.arange(6).reshape(2, 3).reshape(3, 2)
xp.arange(6).reshape(2, 3).transpose(1, 0)
xp.arange(6.0).reshape(2, 3).clip(1, 4)
xp.arange(6.0).round(1)
# Errors: only the exception's class is compared
xp.add(xp.ones(2), xp.ones(3))
xp.reshape(xp.ones((2, 3)), (4, 2))
xp.sum(xp.ones((2, 3)), axis=2)
xp.zeros((-1, 2))
xp.ones(3, dtype="not-a-dtype")
xp.matmul(xp.ones(()), xp.ones(3))
xp.concatenate([xp.ones((2, 3)), xp.ones((2, 4))])
xp.arange(0, 5, 0)
xp.array(2 ** 40)
xp.squeeze(xp.ones((2, 3)), 0)
xp.power(xp.arange(3), -1)
xp.arange(5).at[:].set(xp.array([1, 2]))
""".strip().splitlines()


def encode(value):
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def evaluate(expression: str) -> dict:
    try:
        out = eval(expression)  # noqa: S307 - the expressions are the fixed list above
    except Exception as err:  # noqa: BLE001 - the class of any error is the expected result
        return {"error": type(err).__name__}
    array = np.asarray(out)
    return {
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "weak_type": bool(getattr(out, "weak_type", False)),
        "values": [encode(v) for v in array.astype(np.float64).ravel()],
    }


def main() -> None:
    cases = {}
    for line in EXPRESSIONS:
        if line.strip() and not line.startswith("#"):
            cases[line] = evaluate(line)
    path = os.path.join(HERE, "numpy_jax_cases.json")
    with open(path, "w") as f:
        json.dump(cases, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
