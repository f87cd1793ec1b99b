"""Eager elementwise numpy functions may run as one compiled program
(``plax.numpy.eager``); the result must be exactly what primitive-by-primitive
eager execution gives: same values, dtype and weak type, same errors."""

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import dtypes

FUNCTIONS = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "maximum",
             "minimum", "less", "equal", "arctan2", "sqrt", "tanh"]
# Vectorised and scalar libm variants may differ in the last place, so transcendental
# results are compared within 2 ulps (as any two differently fused programs are).
TRANSCENDENTAL = {"arctan2": 2, "tanh": 2}

RNG = np.random.default_rng(0)


def arrays():
    for dt in ["float32", "int32", "float16", "bfloat16", "int8", "uint8", "bool"]:
        values = RNG.uniform(-50, 50, 6)
        if dt == "uint8":
            values = np.abs(values)
        yield dt, plax.device_put(np.asarray(values).astype(dtypes.dtype(dt)))


SCALARS = [2.5, -3, 7, 0.1, 2**40, 300, 1e39, True]


def outcome(fn, *args):
    try:
        out = fn(*args)
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return ("error", type(e), str(e))
    return ("value", np.asarray(out), out.dtype, out.weak_type)


def same(a, b, ulps=0):
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return a[1] is b[1] and a[2] == b[2]
    if a[2] != b[2] or a[3] != b[3]:
        return False
    if dtypes.is_float(a[2]):  # bit patterns, so NaNs and signed zeros count too
        width = np.dtype(a[2]).itemsize * 8
        if not ulps:
            return np.array_equal(a[1].view(f"uint{width}"), b[1].view(f"uint{width}"))
        got, want = a[1].astype(np.float64), b[1].astype(np.float64)
        if not np.array_equal(np.isnan(got), np.isnan(want)):
            return False
        ok = ~np.isnan(want)
        spacing = np.abs(np.spacing(b[1][ok])).astype(np.float64)
        return bool(np.all(np.abs(got[ok] - want[ok]) <= ulps * spacing))
    return np.array_equal(a[1], b[1])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_compiled_eager_matches_primitive_by_primitive(name):
    fn = getattr(pnp, name)
    eager = fn.__wrapped__
    unary = name in ("sqrt", "tanh")
    for dt, x in arrays():
        binary = [(x, x)] + [(x, s) for s in SCALARS] + [(s, x) for s in SCALARS]
        for args in [(x,)] if unary else binary:
            with np.errstate(all="ignore"):
                got, want = outcome(fn, *args), outcome(eager, *args)
            assert same(got, want, TRANSCENDENTAL.get(name, 0)), (name, dt, args, got, want)


def test_compiled_eager_under_x64(x64):
    x = plax.device_put(np.linspace(-3, 3, 5))
    for s in [2.5, 3, 2**40]:
        for name in ["add", "multiply", "floor_divide"]:
            fn = getattr(pnp, name)
            assert same(outcome(fn, x, s), outcome(fn.__wrapped__, x, s))


def test_operators_use_the_compiled_path():
    x = plax.device_put(np.arange(4, dtype=np.float32))
    fn = pnp.multiply
    # The wrapper routes Arrays and Python scalars to the jitted version, whose fast
    # path caches per signature.
    from plax.numpy import eager

    assert eager._compilable((x, 2.0)) and eager._compilable((x, x))
    assert not eager._compilable((x, np.float32(2.0)))  # numpy scalars keep eager
    assert not eager._compilable((x.astype(pnp.float16), 2.0))  # rounding could differ
    assert not eager._compilable((x, 2**40))  # beyond an int32 weak scalar
    np.testing.assert_array_equal(np.asarray(fn(x, 2.0)), np.arange(4) * 2.0)


def test_inside_transformations_the_function_is_traced_directly():
    def f(x):
        return pnp.sum(pnp.multiply(x, 3.0))

    jaxpr = plax.make_jaxpr(f)(np.ones(3, np.float32))
    assert "jit" not in str(jaxpr)
    assert float(plax.grad(f)(np.ones(3, np.float32))[0]) == 3.0
