"""Forward semantics of lax control flow: cond, switch, while_loop, fori_loop, scan,
map and associative_scan against plain Python loops, eagerly and under jit;
golden jaxpr printing; and the errors for bad input."""

from __future__ import annotations

import collections
import re

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import lax
from plax.lax.control_flow import cond_p, scan_p, while_p


def check(f, *args, expected, rtol=1e-6, atol=1e-6):
    """``f(*args)`` eagerly and under jit both equal ``expected`` (a pytree)."""
    for run in (f, plax.jit(f)):
        got = run(*args)
        got_leaves, got_tree = plax.tree_util.tree_flatten(got)
        want_leaves, want_tree = plax.tree_util.tree_flatten(expected)
        assert got_tree == want_tree, (got_tree, want_tree)
        for g, w in zip(got_leaves, want_leaves):
            w = np.asarray(w)
            g = np.asarray(g)
            assert g.shape == w.shape, (g.shape, w.shape)
            assert g.dtype == w.dtype, (g.dtype, w.dtype)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def f32(x):
    return np.asarray(x, np.float32)


def primitives_of(closed):
    return [e.primitive for e in closed.jaxpr.eqns]


# ----------------------------------------------------------------------------
# cond


@pytest.mark.parametrize("pred", [True, False])
def test_cond_picks_branch(pred):
    def f(p, x):
        return lax.cond(p, lambda x: x + 1.0, lambda x: x * 2.0, x)

    x = f32([1.0, 2.0])
    check(f, pred, x, expected=x + 1.0 if pred else x * 2.0)
    check(f, np.bool_(pred), x, expected=x + 1.0 if pred else x * 2.0)


@pytest.mark.parametrize(
    "pred, want", [(0, 20.0), (3, 11.0), (-2, 11.0), (0.0, 20.0), (0.5, 11.0), (np.int8(1), 11.0)]
)
def test_cond_numeric_pred_is_true_when_nonzero(pred, want):
    check(lambda p: lax.cond(p, lambda: f32(11.0), lambda: f32(20.0)), pred, expected=f32(want))


def test_cond_pytrees_and_several_operands():
    Point = collections.namedtuple("Point", "x y")

    def f(p, a, b):
        return lax.cond(
            p,
            lambda a, b: {"sum": a.x + b, "pt": Point(a.y, b)},
            lambda a, b: {"sum": a.x - b, "pt": Point(a.y * 2, b * 2)},
            a,
            b,
        )

    a = Point(f32([1.0, 2.0]), f32(3.0))
    b = f32([10.0, 20.0])
    check(f, True, a, b, expected={"sum": a.x + b, "pt": Point(a.y, b)})
    check(f, False, a, b, expected={"sum": a.x - b, "pt": Point(a.y * 2, b * 2)})


def test_cond_operand_keyword_and_old_style_form():
    x = f32(3.0)
    check(
        lambda p, x: lax.cond(p, lambda v: v * 2, lambda v: v, operand=x),
        True,
        x,
        expected=f32(6.0),
    )
    # cond(pred, true_operand, true_fun, false_operand, false_fun)
    old = lambda p, x: lax.cond(p, x, lambda v: v + 1, f32(10.0), lambda v: v * 3)
    check(old, True, x, expected=f32(4.0))
    check(old, False, x, expected=f32(30.0))


def test_cond_closures_over_arrays_and_tracers():
    w = f32([1.0, 2.0, 3.0])

    def f(p, x):
        return lax.cond(p, lambda: x * w, lambda: x + w)

    x = f32([2.0, 2.0, 2.0])
    check(f, True, x, expected=x * w)
    check(f, False, x, expected=x + w)
    eqn = next(e for e in plax.make_jaxpr(f)(True, x).jaxpr.eqns if e.primitive is cond_p)
    # Both the closed-over tracer and the array are operands; the branches have no consts.
    assert len(eqn.invars) == 3
    assert all(not b.consts for b in eqn.params["branches"])


def test_cond_integer_and_bool_outputs():
    def f(p, i):
        return lax.cond(p, lambda i: (i + 1, i > 2), lambda i: (i * 3, i < 2), i)

    i = np.int32(2)
    check(f, True, i, expected=(np.int32(3), np.bool_(False)))
    check(f, False, i, expected=(np.int32(6), np.bool_(False)))


def test_cond_weak_type_result_only_if_all_branches_weak():
    both_weak = lax.cond(True, lambda: 1.0, lambda: 2.0)
    assert both_weak.weak_type
    mixed = lax.cond(True, lambda: 1.0, lambda: np.float32(2.0))
    assert not mixed.weak_type and float(mixed) == 1.0


def test_cond_runs_only_the_chosen_branch_eagerly():
    # The untaken branch would divide by zero in integers (defined as -1 in lax);
    # the check is that cond returns the chosen branch's value, not a blend.
    f = lambda p, x: lax.cond(p, lambda x: x // x, lambda x: x + 100, x)
    check(f, False, np.int32(0), expected=np.int32(100))


def test_cond_eager_is_one_primitive(monkeypatch):
    from plax import dispatch

    seen = []
    original = dispatch.eager_rules[cond_p]

    def spy(*args, **params):
        seen.append(len(params["branches"]))
        return original(*args, **params)

    monkeypatch.setitem(dispatch.eager_rules, cond_p, spy)
    out = lax.cond(True, lambda x: pnp.sin(x) + 1, lambda x: pnp.cos(x) * 2, f32(0.5))
    np.testing.assert_allclose(out, np.sin(0.5) + 1, rtol=1e-6)
    assert seen == [2]


# ----------------------------------------------------------------------------
# switch


@pytest.mark.parametrize(
    "index, want",
    [(0, 4.0), (1, 6.0), (2, 9.0), (-5, 4.0), (7, 9.0), (np.int8(1), 6.0), (np.uint32(9), 9.0)],
)
def test_switch_clamps_the_index(index, want):
    branches = [lambda x: x + 1, lambda x: x * 2, lambda x: x**2]
    check(lambda i, x: lax.switch(i, branches, x), index, f32(3.0), expected=f32(want))


def test_switch_single_branch_and_operand_keyword():
    check(lambda i: lax.switch(i, [lambda x: x * 5], f32(2.0)), 3, expected=f32(10.0))
    check(
        lambda i: lax.switch(i, [lambda x: x, lambda x: -x], operand=f32(2.0)),
        1,
        expected=f32(-2.0),
    )


# ----------------------------------------------------------------------------
# while_loop


def test_while_loop_matches_python():
    def py(x):
        i, acc = 0, x
        while i < 5:
            i, acc = i + 1, acc * 1.5 + i
        return i, acc

    def f(x):
        return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 1.5 + c[0]), (0, x))

    x = f32([1.0, -2.0])
    i, acc = py(x.astype(np.float64))
    check(f, x, expected=(np.int32(i), acc.astype(np.float32)))


def test_while_loop_zero_iterations_and_pytree_carry():
    def f(x):
        return lax.while_loop(
            lambda c: c["n"] > 100,
            lambda c: {"n": c["n"] + 1, "x": c["x"]},
            {"n": np.int32(3), "x": x},
        )

    check(f, f32(1.0), expected={"n": np.int32(3), "x": f32(1.0)})


def test_while_loop_closes_over_tracers_for_cond_and_body():
    def f(limit, step):
        return lax.while_loop(lambda v: v < limit, lambda v: v + step, f32(0.0))

    check(f, f32(10.0), f32(3.0), expected=f32(12.0))


def test_while_loop_weak_init_takes_the_body_type():
    out = lax.while_loop(lambda c: c < 3, lambda c: c + 1.0, 0)
    assert out.dtype == np.float32 and float(out) == 3.0
    out = lax.while_loop(lambda c: c < 3, lambda c: c + np.float32(1), 0.0)
    assert out.dtype == np.float32 and not out.weak_type


def test_while_loop_newton_sqrt():
    def sqrt(a):
        def body(c):
            x, k = c
            return 0.5 * (x + a / x), k + 1

        return lax.while_loop(lambda c: c[1] < 20, body, (a, 0))[0]

    a = f32([2.0, 9.0, 0.25])
    check(sqrt, a, expected=np.sqrt(a))


# ----------------------------------------------------------------------------
# fori_loop


def test_fori_loop_static_bounds_is_a_scan():
    def f(x):
        return lax.fori_loop(2, 6, lambda i, c: c * x + i, f32(1.0))

    acc = np.float32(1.0)
    for i in range(2, 6):
        acc = acc * np.float32(1.5) + i
    check(f, f32(1.5), expected=acc)
    prims = primitives_of(plax.make_jaxpr(f)(f32(1.5)))
    assert scan_p in prims and while_p not in prims


def test_fori_loop_traced_bounds_is_a_while():
    def f(lo, hi, x):
        return lax.fori_loop(lo, hi, lambda i, c: c + i.astype(np.float32) * x, f32(0.0))

    check(f, np.int32(1), np.int32(5), f32(2.0), expected=f32(20.0))
    check(f, np.int32(5), np.int32(1), f32(2.0), expected=f32(0.0))
    prims = primitives_of(plax.make_jaxpr(f)(np.int32(1), np.int32(5), f32(2.0)))
    assert while_p in prims and scan_p not in prims


def test_fori_loop_empty_and_negative_ranges():
    check(lambda x: lax.fori_loop(3, 3, lambda i, c: c + 1, x), f32(7.0), expected=f32(7.0))
    check(lambda x: lax.fori_loop(5, 1, lambda i, c: c + 1, x), f32(7.0), expected=f32(7.0))


def test_fori_loop_promotes_a_weak_bound():
    # A Python int bound takes the other bound's signed integer type (as in JAX).
    f = plax.jit(lambda hi: lax.fori_loop(0, hi, lambda i, c: c + i, np.int16(0)))
    out = f(np.int16(4))
    assert out.dtype == np.int16 and int(out) == 6


def test_fori_loop_index_dtype_follows_bounds(x64):
    got = []
    lax.fori_loop(0, 2, lambda i, c: got.append(i.dtype) or c, 0.0)
    assert got == [np.dtype(np.int64)]


# ----------------------------------------------------------------------------
# scan


def py_scan(f, init, xs, reverse=False):
    carry = init
    ys = [None] * len(xs)
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    for i in order:
        carry, ys[i] = f(carry, xs[i])
    return carry, np.stack(ys)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_python(reverse):
    def body(c, x):
        return c * 0.5 + x, c * x

    xs = f32(np.arange(1.0, 6.0))
    want = py_scan(
        lambda c, x: (np.float32(c * 0.5 + x), np.float32(c * x)), np.float32(1.0), xs, reverse
    )
    check(lambda c, xs: lax.scan(body, c, xs, reverse=reverse), f32(1.0), xs, expected=want)


def test_scan_pytrees_of_xs_and_ys():
    def body(carry, x):
        total, count = carry
        new = total + x["a"] * x["b"][0]
        return (new, count + 1), {"t": new, "pair": (x["b"][1], count)}

    xs = {"a": f32(np.arange(4.0)), "b": (f32(np.ones(4)), np.arange(4, dtype=np.int32))}
    totals = np.cumsum(np.arange(4.0)).astype(np.float32)
    want = (
        (totals[-1], np.int32(4)),
        {"t": totals, "pair": (np.arange(4, dtype=np.int32), np.arange(4, dtype=np.int32))},
    )
    check(lambda xs: lax.scan(body, (f32(0.0), np.int32(0)), xs), xs, expected=want)


def test_scan_without_xs_uses_length():
    def f(x):
        return lax.scan(lambda c, _: (c * 2, c), x, None, length=4)

    check(f, f32(1.0), expected=(f32(16.0), f32([1.0, 2.0, 4.0, 8.0])))


def test_scan_zero_length():
    c, ys = lax.scan(lambda c, x: (c + x, x * 2), f32(1.0), f32(np.zeros((0, 3))).sum(1))
    assert float(c) == 1.0 and ys.shape == (0,)
    check(
        lambda xs: lax.scan(lambda c, x: (c + x.sum(), x * 2), f32(1.0), xs),
        f32(np.zeros((0, 3))),
        expected=(f32(1.0), f32(np.zeros((0, 3)))),
    )


def test_scan_none_ys_and_closure():
    w = f32([[1.0, 2.0], [3.0, 4.0]])

    def f(h0, xs):
        return lax.scan(lambda h, x: (pnp.tanh(w @ h + x), None), h0, xs)

    h0 = f32([0.1, -0.2])
    xs = f32(np.linspace(-1, 1, 6).reshape(3, 2))
    h = h0
    for x in xs:
        h = np.tanh(w @ h + x)
    check(f, h0, xs, expected=(h.astype(np.float32), None), rtol=1e-5)


@pytest.mark.parametrize("unroll", [1, 2, 3, True, False, 0])
def test_scan_unroll_does_not_change_results(unroll):
    xs = f32(np.arange(5.0))
    check(
        lambda xs: lax.scan(lambda c, x: (c + x, c), f32(0.0), xs, unroll=unroll),
        xs,
        expected=(f32(10.0), f32([0.0, 0.0, 1.0, 3.0, 6.0])),
    )


def test_scan_weak_init_becomes_strong():
    c, _ = lax.scan(lambda c, x: (c + x, c), 0.0, f32([1.0, 2.0]))
    assert c.dtype == np.float32 and not c.weak_type and float(c) == 3.0


def test_nested_control_flow():
    def f(xs):
        def body(c, x):
            c = lax.cond(x > 1.0, lambda c: c + x, lambda c: c - x, c)
            n = lax.fori_loop(0, 3, lambda i, a: a + x, f32(0.0))
            return c, lax.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, n + 1.0)

        return lax.scan(body, f32(0.0), xs)

    xs = f32([0.5, 2.0, 3.0])
    c = 0.0
    ys = []
    for x in xs:
        c = c + x if x > 1 else c - x
        v = 3 * x + 1.0
        while v < 10.0:
            v *= 2.0
        ys.append(v)
    check(f, xs, expected=(f32(c), f32(ys)))


# ----------------------------------------------------------------------------
# map and associative_scan


def test_map():
    xs = f32(np.arange(6.0).reshape(3, 2))
    check(lambda xs: lax.map(lambda r: (r.sum(), r * 2), xs), xs, expected=(xs.sum(1), xs * 2))


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_cumsum(n, reverse):
    x = f32(np.arange(1.0, n + 1.0))
    want = np.cumsum(x[::-1])[::-1] if reverse else np.cumsum(x)
    check(
        lambda x: lax.associative_scan(lax.add, x, reverse=reverse),
        x,
        expected=want.astype(np.float32),
    )


def test_associative_scan_axis_pytree_and_noncommutative_op():
    # Composition of affine maps (a, b): x -> a * x + b is associative but not commutative.
    def compose(f, g):
        return (g[0] * f[0], g[0] * f[1] + g[1])

    a = f32(np.linspace(0.5, 1.5, 12).reshape(3, 4))
    b = f32(np.linspace(-1, 1, 12).reshape(3, 4))
    want_a, want_b = np.empty_like(a), np.empty_like(b)
    acc_a, acc_b = np.ones(3, np.float32), np.zeros(3, np.float32)
    for j in range(4):
        acc_a, acc_b = a[:, j] * acc_a, a[:, j] * acc_b + b[:, j]
        want_a[:, j], want_b[:, j] = acc_a, acc_b
    check(
        lambda a, b: lax.associative_scan(compose, (a, b), axis=1),
        a,
        b,
        expected=(want_a, want_b),
        rtol=1e-5,
    )
    check(
        lambda a, b: lax.associative_scan(compose, (a, b), axis=-1),
        a,
        b,
        expected=(want_a, want_b),
        rtol=1e-5,
    )


def test_associative_scan_bool_and_max():
    x = np.array([False, True, False, False, True])
    check(
        lambda x: lax.associative_scan(lax.bitwise_or, x), x, expected=np.logical_or.accumulate(x)
    )
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6], np.int32)
    check(lambda y: lax.associative_scan(lax.max, y), y, expected=np.maximum.accumulate(y))


# ----------------------------------------------------------------------------
# x64


def test_control_flow_in_float64(x64):
    def f(x):
        return lax.fori_loop(0, 4, lambda i, c: c * x, np.float64(1.0))

    check(f, np.float64(1.1), expected=np.float64(1.1**4), rtol=1e-14)


# ----------------------------------------------------------------------------
# Printing


def test_print_cond():
    f = lambda p, x: lax.cond(p, lambda x: x + 1.0, lambda x: x * 2.0, x)
    assert (
        str(plax.make_jaxpr(f)(True, f32(1.0)))
        == """\
{ lambda ; a:bool[] b:f32[]. let
    c:i32[] = convert_element_type[new_dtype=int32 weak_type=False] a
    d:f32[] = cond[
      branches=(
        { lambda ; e:f32[]. let f:f32[] = mul e 2.0:f32[] in (f,) }
        { lambda ; g:f32[]. let h:f32[] = add g 1.0:f32[] in (h,) }
      )
    ] c b
  in (d,) }"""
    )


def test_print_switch():
    branches = [lambda x: x + 1.0, lambda x: x * 2.0, pnp.sin]
    f = lambda i, x: lax.switch(i, branches, x)
    assert (
        str(plax.make_jaxpr(f)(1, f32(1.0)))
        == """\
{ lambda ; a:i32[] b:f32[]. let
    c:i32[] = convert_element_type[new_dtype=int32 weak_type=False] a
    d:i32[] = clamp 0:i32[] c 2:i32[]
    e:f32[] = cond[
      branches=(
        { lambda ; f:f32[]. let g:f32[] = add f 1.0:f32[] in (g,) }
        { lambda ; h:f32[]. let i:f32[] = mul h 2.0:f32[] in (i,) }
        { lambda ; j:f32[]. let k:f32[] = sin j in (k,) }
      )
    ] d b
  in (e,) }"""
    )


def test_print_while():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * x), (0, x))

    assert (
        str(plax.make_jaxpr(f)(f32(2.0)))
        == """\
{ lambda ; a:f32[]. let
    b:i32[] c:f32[] = while[
      body_jaxpr={ lambda ; d:f32[] e:i32[] f:f32[]. let
          g:i32[] = add e 1:i32[]
          h:f32[] = mul f d
        in (g, h) }
      body_nconsts=1
      cond_jaxpr={ lambda ; i:i32[] j:f32[]. let k:bool[] = lt i 10:i32[] in (k,) }
      cond_nconsts=0
    ] a 0:i32[] a
  in (b, c) }"""
    )


def test_print_scan():
    f = lambda c, xs: lax.scan(lambda c, x: (c + x, c * x), c, xs)
    assert (
        str(plax.make_jaxpr(f)(f32(0.0), f32(np.ones(3))))
        == """\
{ lambda ; a:f32[] b:f32[3]. let
    c:f32[] d:f32[3] = scan[
      jaxpr={ lambda ; e:f32[] f:f32[]. let
          g:f32[] = add e f
          h:f32[] = mul e f
        in (g, h) }
      length=3
      num_carry=1
      num_consts=0
      reverse=False
      unroll=1
    ] a b
  in (c, d) }"""
    )


def test_print_fori_loop_and_map():
    f = lambda x: lax.fori_loop(0, 3, lambda i, c: c * x, x)
    text = str(plax.make_jaxpr(f)(f32(2.0)))
    assert "scan[" in text and "length=3" in text and "num_carry=2" in text
    assert "num_consts=1" in text and text.endswith("] a 0:i32[] a\n  in (b,) }")
    # As in JAX, the loop counter nobody reads afterwards is printed `_`.
    assert "    _:i32[] b:f32[] = scan[\n" in text
    text = str(plax.make_jaxpr(lambda x: lax.map(pnp.sin, x))(f32(np.ones(3))))
    assert (
        text
        == """\
{ lambda ; a:f32[3]. let
    b:f32[3] = scan[
      jaxpr={ lambda ; c:f32[]. let d:f32[] = sin c in (d,) }
      length=3
      num_carry=0
      num_consts=0
      reverse=False
      unroll=1
    ] a
  in (b,) }"""
    )


def test_print_associative_scan_uses_slices_and_pads():
    text = str(plax.make_jaxpr(lambda x: lax.associative_scan(lax.add, x))(f32(np.ones(5))))
    prims = re.findall(r"= (\w+)", text)
    assert set(prims) == {"slice", "add", "concatenate", "pad"}
    assert "pad[padding_config=((1, 1, 1),)]" in text


# ----------------------------------------------------------------------------
# Errors name both sides


def raises(exc, pattern, f, *args):
    with pytest.raises(exc) as info:
        f(*args)
    assert re.search(pattern, str(info.value), re.DOTALL), str(info.value)
    return str(info.value)


def test_cond_branch_type_mismatch_errors():
    msg = raises(
        TypeError,
        r"true_fun and false_fun output must have identical types, got",
        lambda: lax.cond(True, lambda x: x, lambda x: pnp.ones(3), f32(1.0)),
    )
    assert "float32[]" in msg and "float32[3]" in msg and "shapes do not match" in msg
    msg = raises(
        TypeError,
        "identical types",
        lambda: lax.cond(True, lambda x: x, lambda x: x.astype(np.int32), f32(1.0)),
    )
    assert "float32[]" in msg and "int32[]" in msg and "dtypes do not match" in msg
    raises(
        TypeError,
        r"same pytree structure, got PyTreeDef\(\(\*, \*\)\) and PyTreeDef\(\*\)",
        lambda: lax.cond(True, lambda x: (x, x), lambda x: x, f32(1.0)),
    )


def test_cond_branch_errors_inside_jit():
    f = plax.jit(lambda p, x: lax.cond(p, lambda x: x, lambda x: x[:1], x))
    raises(TypeError, r"float32\[2\].*float32\[1\]", f, True, f32([1.0, 2.0]))


def test_cond_pred_errors():
    raises(
        TypeError,
        r"pred must be a scalar, got .*bool\[2\]",
        lambda: lax.cond(np.array([True, False]), lambda: 1.0, lambda: 2.0),
    )
    raises(TypeError, "pred must be a scalar", lambda: lax.cond([True], lambda: 1.0, lambda: 2.0))
    raises(TypeError, "pred is None", lambda: lax.cond(None, lambda: 1.0, lambda: 2.0))
    raises(TypeError, "should be callable", lambda: lax.cond(True, 1.0, 2.0))


def test_switch_errors():
    raises(ValueError, "Empty branch sequence", lambda: lax.switch(0, [], f32(1.0)))
    raises(
        TypeError,
        r"Index type must be an integer, got 1.0 as float32",
        lambda: lax.switch(1.0, [lambda x: x, lambda x: x], f32(1.0)),
    )
    raises(TypeError, "branch 1 is 3", lambda: lax.switch(0, [lambda x: x, 3], f32(1.0)))
    msg = raises(
        TypeError,
        r"branch 0 and branch 2 output must have identical types",
        lambda: lax.switch(0, [lambda x: x, lambda x: x, lambda x: x > 0], f32(1.0)),
    )
    assert "float32[]" in msg and "bool[]" in msg


def test_while_loop_errors():
    msg = raises(
        TypeError,
        r"carry input and carry output must have equal types",
        lambda: lax.while_loop(lambda c: c[0] < 3, lambda c: pnp.ones(2), pnp.zeros(3)),
    )
    assert "float32[3]" in msg and "float32[2]" in msg
    msg = raises(
        TypeError,
        r"input carry c\[1\] has type int32\[\] .* has type float32\[\]",
        lambda: lax.while_loop(
            lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * f32(1.5)), (0, np.int32(1))
        ),
    )
    raises(
        TypeError,
        r"same pytree structure.*PyTreeDef\(\(\*, \*\)\).*PyTreeDef\(\*\)",
        lambda: lax.while_loop(lambda c: True, lambda c: c[0], (f32(1), f32(2))),
    )
    raises(
        TypeError,
        r"cond_fun must return a boolean scalar, but got output type bool\[3\]",
        lambda: lax.while_loop(lambda c: c < 3, lambda c: c + 1, pnp.zeros(3)),
    )
    raises(
        TypeError,
        r"cond_fun must return a boolean scalar, but got output type .*int32",
        lambda: lax.while_loop(lambda c: c, lambda c: c - 1, 3),
    )
    raises(
        TypeError,
        r"cond_fun must return a boolean scalar, but got a pytree",
        lambda: lax.while_loop(lambda c: (c < 3,), lambda c: c + 1, 0),
    )


def test_scan_errors():
    raises(
        ValueError,
        r"different leading axis sizes: 3, 4",
        lambda: lax.scan(lambda c, x: (c, x), f32(0), (pnp.ones(3), pnp.ones(4))),
    )
    raises(
        ValueError,
        r"length` argument of 4 which disagrees.*\[3\]",
        lambda: lax.scan(lambda c, x: (c, x), f32(0), pnp.ones(3), length=4),
    )
    raises(
        ValueError,
        r"no values to scan over and `length` not provided",
        lambda: lax.scan(lambda c, x: (c, c), f32(0), None),
    )
    raises(ValueError, r"no leading axis", lambda: lax.scan(lambda c, x: (c, x), f32(0), 1.0))
    msg = raises(
        TypeError,
        r"carry input and carry output must have equal types",
        lambda: lax.scan(lambda c, x: (c.astype(np.int32), x), f32(0), pnp.ones(3)),
    )
    assert "float32[]" in msg and "int32[]" in msg
    raises(
        TypeError,
        r"float32\[3\] but .* float32\[2\]",
        lambda: lax.scan(lambda c, x: (pnp.ones(2), x), pnp.zeros(3), pnp.ones(3)),
    )
    raises(
        TypeError,
        r"must return a pair \(carry, y\)",
        lambda: lax.scan(lambda c, x: c, f32(0), pnp.ones(3)),
    )
    raises(
        ValueError, "unroll", lambda: lax.scan(lambda c, x: (c, x), f32(0), pnp.ones(3), unroll=-1)
    )
    raises(
        plax.errors.ConcretizationTypeError,
        "length",
        plax.jit(lambda n: lax.scan(lambda c, x: (c, c), f32(0), None, length=n)),
        3,
    )


def test_fori_loop_errors():
    f = plax.jit(lambda a, b: lax.fori_loop(a, b, lambda i, c: c, f32(0)))
    raises(
        TypeError,
        r"must have equal types, got int32 \(lower\) and int16 \(upper\)",
        f,
        np.int32(0),
        np.int16(3),
    )
    raises(
        ValueError,
        "unroll",
        plax.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c, f32(0), unroll=2)),
        3,
    )


def test_associative_scan_errors():
    raises(
        ValueError,
        r"same size along axis 0, got sizes \[3, 4\]",
        lambda: lax.associative_scan(lax.add, (pnp.ones(3), pnp.ones(4))),
    )
    raises(
        TypeError,
        "same pytree structure",
        lambda: lax.associative_scan(lambda a, b: (a, b), pnp.ones(3)),
    )
    raises(ValueError, "out of range", lambda: lax.associative_scan(lax.add, pnp.ones(3), axis=1))


def test_primitive_type_checks():
    # Binding a primitive directly with inconsistent operands is caught by its abstract eval.
    body = plax.make_jaxpr(lambda c, x: (c + x, c))(f32(0), f32(0))
    with pytest.raises(TypeError, match="leading axis of size length=4"):
        scan_p.bind(
            f32(0),
            f32(np.ones(3)),
            jaxpr=body,
            length=4,
            reverse=False,
            unroll=1,
            num_consts=0,
            num_carry=1,
        )
    with pytest.raises(TypeError, match="int32 scalar"):
        cond_p.bind(np.float32(1), f32(1), branches=(body, body))
