"""Transformations of control flow: jvp, grad/vjp, vmap (and their compositions with
jit) of cond, switch, while_loop, fori_loop, scan and map, against numerical
derivatives (float64) and against values computed once with JAX
(tests/data/control_flow_transforms.json, made by generate_control_flow.py)."""

from __future__ import annotations

import json
import pathlib
import types

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import lax
from plax.autodiff import grad, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp
from plax.lax.control_flow import cond_p, scan_p
from plax.test_util import check_grads
from testdata import decode, load_data_module

DATA = pathlib.Path(__file__).parent / "data"
CASES = load_data_module("control_flow_cases")
EXPECTED = json.loads((DATA / "control_flow_transforms.json").read_text())["cases"]
L = types.SimpleNamespace(lax=lax, np=pnp, jit=plax.jit, grad=grad, vmap=plax.vmap, jvp=jvp)


def f64(x):
    return np.asarray(x, np.float64)


def prims(f, *args):
    """The primitives of ``f``'s jaxpr, with those inside sub-jaxprs."""
    out = []

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            out.append(eqn.primitive.name)
            for value in eqn.params.values():
                subs = value if isinstance(value, tuple) else (value,)
                for sub in subs:
                    if hasattr(sub, "jaxpr") and hasattr(sub, "consts"):
                        walk(sub.jaxpr)

    walk(plax.make_jaxpr(f)(*args).jaxpr)
    return out


def top_prims(f, *args):
    return [e.primitive for e in plax.make_jaxpr(f)(*args).jaxpr.eqns]


# ----------------------------------------------------------------------------
# Against JAX.


@pytest.mark.parametrize("name", sorted(CASES.CASES))
def test_matches_jax(name):
    fun, inputs = CASES.CASES[name]
    stored = EXPECTED[name]
    for given, entry in zip(inputs, stored["inputs"]):
        np.testing.assert_array_equal(given, decode(entry))
    got = plax.tree_util.tree_leaves(fun(L, *inputs))
    want = [decode(e) for e in stored["outputs"]]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = np.asarray(g)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


# ----------------------------------------------------------------------------
# Against numerical derivatives (float64): JVP vs central differences, VJP vs JVP.


def test_check_grads_cond(x64):
    def f(x, y):
        return lax.cond(
            pnp.sum(x) > y, lambda x, y: pnp.sin(x) * y, lambda x, y: pnp.cos(x) / y, x, y
        )

    check_grads(f, (f64([0.5, 1.0]), f64(0.3)), order=2)
    check_grads(f, (f64([0.5, -1.0]), f64(2.0)), order=2)


def test_check_grads_switch_with_closure(x64):
    w = f64([1.5, -0.5])

    def f(i, x):
        branches = [lambda x: x * w, lambda x: pnp.exp(x) + w, lambda x: pnp.tanh(x * w)]
        return lax.switch(i, branches, x)

    for i in range(3):
        check_grads(lambda x, i=i: f(i, x), (f64([0.2, 0.7]),), order=2)


def test_check_grads_scan(x64):
    def f(w, c0, xs):
        def step(c, x):
            c = pnp.tanh(w * c + x)
            return c, pnp.sin(c) * x

        return lax.scan(step, c0, xs)

    args = (f64(0.8), f64([0.1, -0.2]), f64(np.linspace(-1, 1, 8).reshape(4, 2)))
    check_grads(f, args, order=2)


def test_check_grads_scan_reverse_and_pytrees(x64):
    def f(params, xs):
        def step(carry, x):
            a, b = carry
            new = {"a": a * params["s"] + x["u"], "b": b + pnp.sin(a) * x["v"]}
            return (new["a"], new["b"]), new

        return lax.scan(step, (f64(0.3), f64(-0.1)), xs, reverse=True)

    xs = {"u": f64([0.5, 1.0, -0.5]), "v": f64([2.0, -1.0, 0.5])}
    check_grads(f, ({"s": f64(0.9)}, xs), order=1)


def test_check_grads_scan_with_integer_carry_and_unused_ys(x64):
    def f(x):
        def step(c, _):
            i, v = c
            return (i + 1, v * x + i.astype(np.float64)), i

        (_, v), _ = lax.scan(step, (0, f64(1.0)), None, length=4)
        return v

    check_grads(f, (f64(0.7),), order=2)


def test_check_grads_fori_loop_static(x64):
    def f(x):
        return lax.fori_loop(1, 4, lambda i, c: pnp.sin(c) * x + c, x)

    check_grads(f, (f64(0.4),), order=2)


def test_check_grads_while_forward_mode(x64):
    def f(a):
        def body(c):
            x, k = c
            return 0.5 * (x + a / x), k + 1

        return lax.while_loop(lambda c: c[1] < 8, body, (a, 0))[0]

    check_grads(f, (f64([2.0, 5.0]),), order=2, modes=["fwd"])


def test_check_grads_map_and_associative_scan(x64):
    check_grads(lambda xs: lax.map(lambda x: pnp.sin(x) * x, xs), (f64([0.1, 0.5, 2.0]),), order=1)
    check_grads(
        lambda x: lax.associative_scan(lax.mul, x), (f64([0.5, 1.5, -2.0, 0.7, 1.1]),), order=1
    )


# ----------------------------------------------------------------------------
# JVP and reverse mode: specific behaviour.


def test_jvp_cond_only_differentiates_the_taken_branch():
    f = lambda x: lax.cond(x > 0, lambda x: x * 3.0, lambda x: x * x, x)
    assert jvp(f, (np.float32(2.0),), (np.float32(1.0),))[1] == 3.0
    assert jvp(f, (np.float32(-2.0),), (np.float32(1.0),))[1] == -4.0


def test_jvp_cond_with_integer_operand_and_output():
    def f(x, n):
        return lax.cond(
            n > 1, lambda x, n: (x * n.astype(np.float32), n + 1), lambda x, n: (x, n), x, n
        )

    (out, n), (t, _) = jvp(lambda x: f(x, np.int32(3)), (np.float32(2.0),), (np.float32(1.0),))
    assert float(out) == 6.0 and int(n) == 4 and float(t) == 3.0


def test_while_loop_reverse_mode_error():
    def f(x):
        return lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)

    msg = (
        "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop "
        "with dynamic start/stop values. Try using lax.scan, or using fori_loop with static "
        "start/stop."
    )
    with pytest.raises(ValueError) as info:
        grad(f)(np.float32(1.0))
    assert str(info.value) == msg
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        plax.jit(grad(f))(np.float32(1.0))


def test_fori_loop_traced_bounds_reverse_mode_error_but_forward_works():
    def f(x, n):
        return lax.fori_loop(0, n, lambda i, c: c * x, x)

    with pytest.raises(ValueError, match="fori_loop with static start/stop"):
        plax.jit(grad(f))(np.float32(2.0), np.int32(3))
    # Bounds that are concrete at trace time give a scan, which differentiates.
    assert float(grad(f)(np.float32(2.0), 3)) == 32.0
    _, t = jvp(lambda x: plax.jit(f)(x, np.int32(3)), (np.float32(2.0),), (np.float32(1.0),))
    assert float(t) == 32.0


def test_linearize_while_works_like_jax():
    # Only transposition fails: linearize (forward evaluation of the linear part) works.
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x), (0, x))[1]

    y, f_lin = linearize(f, np.float32(2.0))
    assert float(y) == 16.0 and float(f_lin(np.float32(1.0))) == 32.0


def test_while_tangent_only_through_condition_is_zero():
    def f(x):
        return lax.while_loop(lambda c: c < x, lambda c: c + 1.0, np.float32(0.0))

    y, t = jvp(f, (np.float32(2.5),), (np.float32(1.0),))
    assert float(y) == 3.0 and float(t) == 0.0


def test_grad_of_scan_stacks_residuals_in_a_forward_scan_and_runs_backwards():
    def loss(w, xs):
        return lax.scan(lambda c, x: (pnp.sin(c * w + x), None), np.float32(0.0), xs)[0]

    xs = np.linspace(0, 1, 5, dtype=np.float32)
    jaxpr = plax.make_jaxpr(grad(loss))(np.float32(0.5), xs)
    scans = [e for e in jaxpr.jaxpr.eqns if e.primitive is scan_p]
    assert len(scans) == 2
    forward, backward = scans
    assert not forward.params["reverse"] and backward.params["reverse"]
    # The forward scan emits stacked residuals (leading axis 5) besides the carry.
    assert any(v.aval.shape[:1] == (5,) for v in forward.outvars)


def test_grad_of_scan_reads_closed_over_consts_without_stacking_them():
    w = np.ones((3, 3), np.float32)

    def loss(h0, xs):
        return lax.scan(lambda h, x: (pnp.tanh(w @ h + x), None), h0, xs)[0].sum()

    jaxpr = plax.make_jaxpr(grad(loss))(np.zeros(3, np.float32), np.ones((4, 3), np.float32))
    forward = next(e for e in jaxpr.jaxpr.eqns if e.primitive is scan_p)
    assert not any(v.aval.shape == (4, 3, 3) for v in forward.outvars)


def test_value_and_grad_cond_inside_scan_inside_jit():
    def loss(w, xs):
        def step(c, x):
            c = lax.cond(x > 0, lambda c: c * w, lambda c: c + w, c)
            return c, c

        c, ys = lax.scan(step, np.float32(1.0), xs)
        return c + pnp.sum(ys)

    xs = np.array([1.0, -1.0, 2.0], np.float32)
    w = np.float32(0.5)
    # Hand-derived: c1 = w, c2 = 2w, c3 = 2w^2; loss = c3 + (c1 + c2 + c3) = 3w + 4w^2.
    val, g = plax.jit(value_and_grad(loss))(w, xs)
    assert np.isclose(float(val), 3 * 0.5 + 4 * 0.25)
    assert np.isclose(float(g), 3 + 8 * 0.5)


def test_jacrev_and_jacfwd_of_scan_agree():
    def f(x):
        return lax.scan(lambda c, x: (c * x, c + x), np.float32(1.0), x)[1]

    x = np.array([1.0, 2.0, 3.0], np.float32)
    np.testing.assert_allclose(jacrev(f)(x), jacfwd(f)(x), rtol=1e-6)


def test_vjp_of_scan_with_zero_cotangent_for_ys():
    def f(c0, xs):
        return lax.scan(lambda c, x: (c * x, c * c), c0, xs)

    _, pullback = vjp(f, np.float32(2.0), np.array([1.0, 3.0], np.float32))
    from plax.interpreters.jvp import Zero

    ct_c0, ct_xs = pullback((np.float32(1.0), Zero(plax.core.get_aval(np.zeros(2, np.float32)))))
    assert float(ct_c0) == 3.0
    np.testing.assert_allclose(ct_xs, [6.0, 2.0])


# ----------------------------------------------------------------------------
# vmap


def test_vmap_cond_unbatched_predicate_keeps_cond():
    def f(p, x):
        return lax.cond(p, lambda x: x * 2.0, lambda x: -x, x)

    xs = np.array([1.0, 2.0, 3.0], np.float32)
    g = plax.vmap(f, in_axes=(None, 0))
    np.testing.assert_allclose(g(True, xs), xs * 2)
    np.testing.assert_allclose(g(False, xs), -xs)
    assert cond_p in top_prims(g, True, xs)


def test_vmap_cond_batched_predicate_becomes_select():
    def f(p, x):
        return lax.cond(p, lambda x: x * 2.0, lambda x: -x, x)

    ps = np.array([True, False, True])
    xs = np.array([1.0, 2.0, 3.0], np.float32)
    g = plax.vmap(f)
    np.testing.assert_allclose(g(ps, xs), [2.0, -2.0, 6.0])
    np.testing.assert_allclose(plax.jit(g)(ps, xs), [2.0, -2.0, 6.0])
    names = prims(g, ps, xs)
    assert "cond" not in names and "select_n" in names


def test_vmap_switch_batched_index_clamps():
    branches = [lambda x: x + 1.0, lambda x: x * 10.0, lambda x: -x]
    idx = np.array([-3, 0, 1, 2, 9], np.int32)
    xs = np.arange(5, dtype=np.float32)
    out = plax.vmap(lambda i, x: lax.switch(i, branches, x))(idx, xs)
    np.testing.assert_allclose(out, [1.0, 2.0, 20.0, -3.0, -4.0])


def test_vmap_cond_batched_operand_axis_and_pytree_output():
    def f(x):
        return lax.cond(
            True, lambda x: {"s": x.sum(), "x": x}, lambda x: {"s": -x.sum(), "x": x}, x
        )

    xs = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = plax.vmap(f, in_axes=1)(xs)
    np.testing.assert_allclose(out["s"], xs.sum(0))
    np.testing.assert_allclose(out["x"], xs.T)


def test_vmap_while_batched_predicate_runs_until_all_lanes_finish():
    def f(n):
        return lax.while_loop(
            lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2.0), (0, np.float32(1.0))
        )

    ns = np.array([0, 3, 1, 5], np.int32)
    i, v = plax.vmap(f)(ns)
    np.testing.assert_array_equal(i, ns)
    np.testing.assert_allclose(v, 2.0**ns)
    g = plax.jit(plax.vmap(f))
    i2, v2 = g(ns)
    np.testing.assert_array_equal(i2, ns)
    np.testing.assert_allclose(v2, 2.0**ns)
    names = prims(plax.vmap(f), ns)
    assert "while" in names and "reduce_or" in names and "select_n" in names


def test_vmap_while_unbatched_predicate_keeps_scalar_condition():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] * x), (0, x))

    xs = np.array([1.0, 2.0, 0.5], np.float32)
    i, v = plax.vmap(f)(xs)
    np.testing.assert_array_equal(i, [4, 4, 4])
    np.testing.assert_allclose(v, xs**5)
    assert "reduce_or" not in prims(plax.vmap(f), xs)


def test_vmap_scan_batched_consts_carry_and_xs():
    def f(w, c0, xs):
        return lax.scan(lambda c, x: (c * w + x, c), c0, xs)

    ws = np.array([0.5, 2.0], np.float32)
    c0 = np.float32(1.0)
    xss = np.arange(8, dtype=np.float32).reshape(4, 2)  # batch along axis 1
    c, ys = plax.vmap(f, in_axes=(0, None, 1))(ws, c0, xss)
    for b in range(2):
        cc = 1.0
        want = []
        for x in xss[:, b]:
            want.append(cc)
            cc = cc * ws[b] + x
        np.testing.assert_allclose(c[b], cc)
        np.testing.assert_allclose(ys[b], want)


def test_vmap_of_grad_of_fori_loop_and_grad_of_vmap():
    def f(x):
        return lax.fori_loop(0, 3, lambda i, c: c * x, x)

    xs = np.array([1.0, 2.0, -1.5], np.float32)
    np.testing.assert_allclose(plax.vmap(grad(f))(xs), 4 * xs**3, rtol=1e-6)
    np.testing.assert_allclose(grad(lambda xs: plax.vmap(f)(xs).sum())(xs), 4 * xs**3, rtol=1e-6)


def test_vmap_map_with_batch_size():
    xs = np.arange(7, dtype=np.float32)
    np.testing.assert_allclose(lax.map(lambda x: x * x + 1, xs, batch_size=3), xs * xs + 1)
    np.testing.assert_allclose(lax.map(lambda x: x * 2, xs, batch_size=7), xs * 2)


def test_vmap_of_while_inside_jit_inside_grad_of_cond():
    # A composition of everything: grad(cond(vmap-free)) around a jitted vmapped while.
    def inner(xs):
        return plax.vmap(lambda x: lax.while_loop(lambda v: v < 5.0, lambda v: v + 1.5, x))(xs)

    def f(w, xs):
        steps = plax.jit(inner)(xs)
        return lax.cond(w > 0, lambda w: (steps * w).sum(), lambda w: (steps / w).sum(), w)

    xs = np.array([0.0, 4.0, 6.0], np.float32)
    # steps = [6.0, 5.5, 6.0]
    assert np.isclose(float(grad(f)(np.float32(2.0), xs)), 17.5)
    assert np.isclose(float(grad(f)(np.float32(-2.0), xs)), -17.5 / 4)


# ----------------------------------------------------------------------------
# Nesting and higher order.


def test_check_grads_third_order_scan(x64):
    def f(x):
        return lax.scan(lambda c, x: (pnp.sin(c) * x, c * x), f64(0.3), x)[0]

    check_grads(f, (f64([0.5, 1.0, 2.0]),), order=3)


def test_check_grads_nested_scan_and_switch_in_scan(x64):
    def nested(xs):
        def outer(c, row):
            inner = lax.scan(lambda d, x: (d * x + c, d), c, row)[0]
            return inner, c

        return lax.scan(outer, f64(0.4), xs)

    check_grads(nested, (f64(np.linspace(0.1, 1, 6).reshape(2, 3)),), order=2)

    def switching(xs):
        def step(c, x):
            index = (x > 0).astype(np.int32) + (x > 1).astype(np.int32)
            branches = [lambda c: c * x, lambda c: pnp.sin(c) + x, lambda c: c - x]
            return lax.switch(index, branches, c), c

        return lax.scan(step, f64(0.4), xs)

    check_grads(switching, (f64([-0.5, 0.5, 1.5, 0.2]),), order=2)


def test_check_grads_scan_unroll_and_zero_length(x64):
    def f(c, xs):
        return lax.scan(lambda c, x: (pnp.sin(c) * x, c * x), c, xs, unroll=2)

    check_grads(f, (f64(0.3), f64([0.5, 1.0, 2.0])), order=2)
    check_grads(f, (f64(0.3), f64(np.zeros(0))), order=1)


def test_hessian_of_fori_loop(x64):
    from plax.autodiff import hessian

    def f(x):
        return lax.fori_loop(0, 3, lambda i, c: pnp.sin(c) * x, x)

    x = 0.5
    eps = 1e-5
    numeric = (float(grad(f)(f64(x + eps))) - float(grad(f)(f64(x - eps)))) / (2 * eps)
    np.testing.assert_allclose(float(hessian(f)(f64(x))), numeric, rtol=1e-6)


def test_nested_vmap_of_while_with_batched_predicate():
    def f(n):
        return lax.while_loop(
            lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2.0), (0, np.float32(1.0))
        )

    ns = np.array([[0, 3], [1, 5]], np.int32)
    i, v = plax.vmap(plax.vmap(f))(ns)
    np.testing.assert_array_equal(i, ns)
    np.testing.assert_allclose(v, 2.0**ns)


def test_vmap_while_batched_condition_const():
    def f(x, limit):
        return lax.while_loop(lambda c: c < limit, lambda c: c * x, np.float32(1.0))

    limits = np.array([1.0, 5.0, 100.0], np.float32)
    np.testing.assert_allclose(
        plax.vmap(f, in_axes=(None, 0))(np.float32(2.0), limits), [1.0, 8.0, 128.0]
    )
    out = plax.vmap(plax.vmap(f, in_axes=(0, None)), in_axes=(None, 0))(
        np.array([2.0, 3.0], np.float32), limits
    )
    np.testing.assert_allclose(out, [[1.0, 1.0], [8.0, 9.0], [128.0, 243.0]])


def test_vmap_of_jvp_of_while_with_batched_predicate():
    def f(a):
        return lax.while_loop(lambda c: c[1] < a, lambda c: (c[0] * a, c[1] + 1.0), (a, 0.0))[0]

    primal, tangent = plax.vmap(lambda a: jvp(f, (a,), (np.float32(1.0),)))(
        np.array([2.0, 3.0], np.float32)
    )
    # The trip count is piecewise constant: f(a) = a ** (ceil(a) + 1) near these points.
    np.testing.assert_allclose(primal, [8.0, 81.0])
    np.testing.assert_allclose(tangent, [12.0, 108.0])


def test_vmap_cond_batched_predicate_with_integer_outputs():
    def f(p, i):
        return lax.cond(p, lambda i: (i + 1, i > 0), lambda i: (i * 2, i < 0), i)

    out_i, out_b = plax.vmap(f)(np.array([True, False]), np.array([3, -4], np.int32))
    np.testing.assert_array_equal(out_i, [4, -8])
    np.testing.assert_array_equal(out_b, [True, True])


def test_map_batch_size_edges():
    for n in (0, 1, 5, 6):
        for batch_size in (1, 2, 6, 9):
            xs = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
            s, d = lax.map(lambda x: (x.sum(), x * 2), xs, batch_size=batch_size)
            np.testing.assert_allclose(s, xs.sum(1))
            np.testing.assert_allclose(d, xs * 2)
            assert s.shape == (n,)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        lax.map(lambda x: x, np.ones(3, np.float32), batch_size=0)


def test_vmap_associative_scan_and_grad():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(
        plax.vmap(lambda r: lax.associative_scan(lax.add, r))(x), np.cumsum(x, 1)
    )
    g = grad(lambda r: (lax.associative_scan(lax.add, r) * np.arange(1.0, 5.0)).sum())(x[0])
    np.testing.assert_allclose(g, [10.0, 9.0, 7.0, 4.0])
