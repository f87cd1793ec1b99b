"""The minimal failing program: the shrinker cuts a failing jit program down to the
equations the backend gets wrong."""

import json

import numpy as np

import plax
import plax.numpy as pnp
from plax import lax
from plax_conformance.shrink import shrink


def test_report_carries_the_minimal_failing_program(cli, tmp_path):
    path = tmp_path / "r.json"
    code, out, _ = cli("run", "--backend", "test_sin_is_cos", "--case",
                       "program.elementwise_chain/float32/jit", "--json", str(path), "-v")
    assert code == 1
    failure = json.loads(path.read_text())["cases"][0]["failures"][0]
    program = failure["minimal_program"]
    assert program["original_equations"] >= 5
    assert program["equations"] == 1 and program["primitives"] == ["sin"]
    assert "sin" in program["jaxpr"]
    assert program["inputs"][0]["dtype"] == "float32"
    assert "minimal failing program (1 of" in out  # -v prints it


def test_eager_failures_shrink_too(cli, tmp_path):
    path = tmp_path / "r.json"
    code, _, _ = cli("run", "--backend", "test_add_plus_one", "--case",
                     "program.dense_relu/float32/eager", "--json", str(path))
    assert code == 1
    program = json.loads(path.read_text())["cases"][0]["failures"][0]["minimal_program"]
    assert program["primitives"] == ["add"] and program["equations"] == 1


def test_shrink_cuts_upstream_equations_and_unused_inputs():
    def f(x, y, z):
        a = lax.exp(x)  # upstream of the bad op: cut away (its value becomes an input)
        b = lax.mul(a, y)
        c = lax.sin(b)  # the "wrong" equation
        d = lax.add(c, lax.neg(z))
        return lax.mul(d, d), lax.exp(z)

    x = np.linspace(-1, 1, 5, dtype=np.float32)
    closed = plax.make_jaxpr(f)(x, x, x)
    assert len(closed.jaxpr.eqns) == 7

    def check(candidate, values):
        # A stand-in backend that is wrong whenever a program contains sin.
        bad = any(e.primitive.name == "sin" for e in candidate.jaxpr.eqns)
        return "sin is wrong" if bad else None

    result = shrink(closed, [x, x, x], check)
    assert result.equations == 1
    assert [e.primitive.name for e in result.closed.jaxpr.eqns] == ["sin"]
    assert len(result.closed.jaxpr.invars) == 1 and len(result.inputs) == 1
    # The new input holds what the original program computed there: exp(x) * x.
    np.testing.assert_allclose(result.inputs[0], np.exp(x) * x, rtol=1e-6)


def test_shrink_returns_none_when_nothing_fails():
    closed = plax.make_jaxpr(lambda x: pnp.sin(x) + 1)(np.ones(3, np.float32))
    assert shrink(closed, [np.ones(3, np.float32)], lambda c, v: None) is None


def test_shrink_inlines_nested_jit():
    inner = plax.jit(lambda x: lax.sin(lax.exp(x)))

    def outer(x):
        return inner(x) * 2

    x = np.ones(4, np.float32)
    closed = plax.make_jaxpr(outer)(x)
    assert [e.primitive.name for e in closed.jaxpr.eqns][0] == "jit"

    def check(candidate, values):
        return "bad" if any(e.primitive.name == "sin" for e in candidate.jaxpr.eqns) else None

    result = shrink(closed, [x], check)
    assert [e.primitive.name for e in result.closed.jaxpr.eqns] == ["sin"]
