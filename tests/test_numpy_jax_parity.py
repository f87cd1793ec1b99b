"""plax.numpy against JAX 0.10.2 on a table of expressions (tests/data/numpy_jax_cases.json,
written by tests/data/generate_numpy_cases.py): the same dtype, shape, weak type and
values, eagerly and with the expression traced under jit. Where JAX raises, plax must
raise a TypeError/ValueError-like error too (the messages are plax's own)."""

import json
import math
import os

import numpy as np
import pytest

import plax
import plax.numpy as xp

PATH = os.path.join(os.path.dirname(__file__), "data", "numpy_jax_cases.json")
with open(PATH) as _f:
    CASES = json.load(_f)

# JAX and plax may pick different classes (JAX: TypeError for a shape mismatch, plax:
# ValueError as numpy does); both must reject the input.
INPUT_ERRORS = (TypeError, ValueError, IndexError, ArithmeticError)


def decode(values):
    return np.array([math.nan if v is None else float(v) for v in values], np.float64)


def run(expression: str):
    return eval(expression, {"xp": xp, "np": np})  # noqa: S307 - expressions from the table


def check_result(expression, out, expected, mode):
    array = np.asarray(out)
    assert str(array.dtype) == expected["dtype"], (mode, expression, array.dtype)
    assert list(array.shape) == expected["shape"], (mode, expression, array.shape)
    assert bool(getattr(out, "weak_type", False)) == expected["weak_type"], (mode, expression)
    np.testing.assert_allclose(array.astype(np.float64).ravel(), decode(expected["values"]),
                               rtol=2e-6, atol=1e-6, equal_nan=True,
                               err_msg=f"{mode}: {expression}")


@pytest.mark.parametrize("expression", list(CASES))
def test_matches_jax(expression):
    expected = CASES[expression]
    if "error" in expected:
        with pytest.raises(INPUT_ERRORS):
            run(expression)
        return
    check_result(expression, run(expression), expected, "eager")
    check_result(expression, plax.jit(lambda: run(expression))(), expected, "jit")
