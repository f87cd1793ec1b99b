"""grad, value_and_grad, jvp, vjp, linearize, jacobians, custom rules, checkpoint.

Values of nested compositions come from JAX (``tests/data/autodiff_expected.json``,
made by ``tests/data/generate_autodiff.py`` from ``tests/data/autodiff_cases.py``);
the rest checks API semantics, agreement between the transformations, and the
error messages for bad input.
"""

import json
import os
import types

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import lax
from plax.autodiff import float0
from plax.test_util import check_grads
from plax.tree_util import tree_flatten
from testdata import decode, load_data_module

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
CASES = load_data_module("autodiff_cases").CASES
with open(os.path.join(DATA, "autodiff_expected.json")) as f:
    EXPECTED = json.load(f)["cases"]

L = types.SimpleNamespace(
    np=pnp,
    lax=lax,
    jit=plax.jit,
    grad=plax.grad,
    value_and_grad=plax.value_and_grad,
    jvp=plax.jvp,
    vjp=plax.vjp,
    linearize=plax.linearize,
    jacfwd=plax.jacfwd,
    jacrev=plax.jacrev,
    hessian=plax.hessian,
    custom_jvp=plax.custom_jvp,
    custom_vjp=plax.custom_vjp,
    checkpoint=plax.checkpoint,
    stop_gradient=plax.stop_gradient,
)


def assert_close(actual, expected, tol=1e-12):
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), np.asarray(expected, np.float64), rtol=tol, atol=tol
    )


# ----------------------------------------------------------------------------
# Against JAX.


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_jax(name, x64):
    fn, args = CASES[name]
    leaves, _ = tree_flatten(fn(L, *args))
    expected = EXPECTED[name]["outputs"]
    assert len(leaves) == len(expected)
    for leaf, want in zip(leaves, expected):
        assert list(np.shape(leaf)) == want["shape"]
        assert_close(leaf, decode(want), tol=1e-10)


# ----------------------------------------------------------------------------
# grad and value_and_grad.


def f2(x, y):
    return pnp.sum(pnp.sin(x) * y + x * x)


def test_grad_argnums_int_tuple_and_negative():
    x = np.array([0.5, 1.0, 2.0], np.float32)
    y = np.array([1.0, -1.0, 3.0], np.float32)
    gx = plax.grad(f2)(x, y)
    assert_close(gx, np.cos(x) * y + 2 * x, 1e-6)
    gx2, gy = plax.grad(f2, argnums=(0, 1))(x, y)
    assert_close(gx2, gx, 1e-6)
    assert_close(gy, np.sin(x), 1e-6)
    assert_close(plax.grad(f2, argnums=-1)(x, y), np.sin(x), 1e-6)
    (gy_only,) = plax.grad(f2, argnums=(1,))(x, y)
    assert_close(gy_only, np.sin(x), 1e-6)


def test_grad_dtype_shape_and_array_type():
    g = plax.grad(lambda x: pnp.sum(x * x))(pnp.arange(4.0))
    assert isinstance(g, plax.Array)
    assert g.shape == (4,) and g.dtype == np.float32
    g16 = plax.grad(lambda x: pnp.sum(x * x))(pnp.ones(3, np.float16))
    assert g16.dtype == np.float16


def test_grad_pytrees_and_kwargs():
    params = {"w": np.ones((2, 3), np.float32), "b": [np.zeros(3, np.float32)]}

    def loss(p, x, scale=1.0):
        return pnp.sum((x @ p["w"] + p["b"][0]) ** 2) * scale

    x = np.array([[1.0, 2.0]], np.float32)
    g = plax.grad(loss)(params, x, scale=2.0)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    out = x @ params["w"]
    assert_close(g["w"], 2 * 2.0 * x.T @ out, 1e-5)
    assert_close(g["b"][0], 2 * 2.0 * out.sum(0), 1e-5)


def test_value_and_grad_and_has_aux():
    value, g = plax.value_and_grad(lambda x: x**3)(2.0)
    assert_close(value, 8.0)
    assert_close(g, 12.0)
    g, aux = plax.grad(lambda x: (x**2, {"twice": 2 * x}), has_aux=True)(3.0)
    assert_close(g, 6.0)
    assert_close(aux["twice"], 6.0)
    assert not isinstance(aux["twice"], plax.core.Tracer)
    (value, aux), g = plax.value_and_grad(lambda x: (x**2, x + 1), has_aux=True)(3.0)
    assert_close(value, 9.0)
    assert_close(aux, 4.0)


def test_grad_allow_int_gives_float0():
    def f(x, n):
        return x * lax.convert_element_type(n, np.float32)

    gx, gn = plax.grad(f, argnums=(0, 1), allow_int=True)(2.0, np.int32(3))
    assert_close(gx, 3.0)
    assert gn.dtype == float0 and gn.shape == ()


def test_grad_of_unused_argument_is_zero():
    gx, gy = plax.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, np.ones(3, np.float32))
    assert_close(gx, 2.0)
    assert gy.shape == (3,) and gy.dtype == np.float32
    assert_close(gy, np.zeros(3))


def test_python_control_flow_on_primal_values():
    def f(x):
        if x > 0:
            return pnp.sin(x)
        return pnp.cos(x)

    assert_close(plax.grad(f)(1.0), np.cos(1.0), 1e-6)
    assert_close(plax.grad(f)(-1.0), np.sin(1.0), 1e-6)


def test_higher_order_and_hessian():
    f = lambda x: x**4
    assert_close(plax.grad(plax.grad(plax.grad(f)))(2.0), 48.0)
    h = plax.hessian(lambda x: pnp.sum(x**3))(np.array([1.0, 2.0], np.float32))
    assert_close(h, np.diag([6.0, 12.0]), 1e-5)


def test_grad_jit_agreement():
    def f(x):
        return pnp.sum(pnp.tanh(x) * pnp.exp(-x * x))

    x = np.linspace(-1, 1, 5).astype(np.float32)
    expected = plax.grad(f)(x)
    assert_close(plax.grad(plax.jit(f))(x), expected, 1e-6)
    assert_close(plax.jit(plax.grad(f))(x), expected, 1e-6)
    assert_close(plax.jit(plax.grad(plax.jit(f)))(x), expected, 1e-6)


def test_grad_vmap_agreement():
    def f(x):
        return pnp.sum(pnp.sin(x) * x)

    xs = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    per_row = np.stack([np.asarray(plax.grad(f)(row)) for row in xs])
    assert_close(plax.vmap(plax.grad(f))(xs), per_row, 1e-6)
    assert_close(plax.grad(lambda x: pnp.sum(plax.vmap(f)(x)))(xs), per_row, 1e-6)


# ----------------------------------------------------------------------------
# jvp, vjp, linearize, jacobians.


def test_jvp_pytrees_and_float0():
    out, t = plax.jvp(lambda d: d["a"] * d["b"], ({"a": 2.0, "b": 3.0},), ({"a": 1.0, "b": 0.0},))
    assert_close(out, 6.0)
    assert_close(t, 3.0)
    n = np.arange(3, dtype=np.int32)
    out, t = plax.jvp(lambda n: n * 2, (n,), (np.zeros(3, float0),))
    assert t.dtype == float0 and t.shape == (3,)
    out, t, aux = plax.jvp(lambda x: (x * x, x + 1), (3.0,), (1.0,), has_aux=True)
    assert_close(t, 6.0)
    assert_close(aux, 4.0)


def test_vjp_and_float0_cotangents():
    out, pullback = plax.vjp(lambda x, y: x * y, 2.0, 5.0)
    assert_close(out, 10.0)
    gx, gy = pullback(1.0)
    assert_close(gx, 5.0)
    assert_close(gy, 2.0)
    _, pullback = plax.vjp(
        lambda x, n: x * lax.convert_element_type(n, np.float32), 2.0, np.int32(4)
    )
    gx, gn = pullback(np.float32(1.0))
    assert_close(gx, 4.0)
    assert gn.dtype == float0


def test_linearize_reuses_primal():
    out, f_jvp = plax.linearize(pnp.sin, 1.0)
    assert_close(out, np.sin(1.0), 1e-6)
    assert_close(f_jvp(2.0), 2 * np.cos(1.0), 1e-6)
    jaxpr = plax.make_jaxpr(lambda x: plax.linearize(pnp.sin, x)[1](x))(1.0)
    prims = [e.primitive.name for e in jaxpr.eqns]
    assert prims.count("cos") == 1 and "mul" in prims


def test_jacobians_shapes():
    def f(x):
        return pnp.stack([x[0] * x[1], pnp.sin(x[2]), x[0] ** 2])

    x = np.array([1.0, 2.0, 0.5], np.float32)
    expected = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, np.cos(0.5)], [2.0, 0.0, 0.0]])
    assert_close(plax.jacfwd(f)(x), expected, 1e-6)
    assert_close(plax.jacrev(f)(x), expected, 1e-6)
    jf = plax.jacfwd(lambda a, b: a * b, argnums=(0, 1))(
        np.ones(2, np.float32), np.full(2, 3.0, np.float32)
    )
    assert_close(jf[0], 3 * np.eye(2))
    assert_close(jf[1], np.eye(2))


# ----------------------------------------------------------------------------
# stop_gradient, custom rules, checkpoint.


def test_stop_gradient_public_and_pytrees():
    assert plax.stop_gradient is lax.stop_gradient
    tree = {"a": np.float32(2.0), "n": np.int32(3)}
    out = plax.stop_gradient(tree)
    assert out["n"] is tree["n"]
    g = plax.grad(lambda x: x * plax.stop_gradient(x))(3.0)
    assert_close(g, 3.0)
    jaxpr = plax.make_jaxpr(lax.stop_gradient)(1.0)
    assert [e.primitive.name for e in jaxpr.eqns] == ["stop_gradient"]
    assert_close(plax.grad(plax.jit(lambda x: x * lax.stop_gradient(x)))(3.0), 3.0)


def test_custom_jvp_defjvps_and_nondiff_argnums():
    @plax.custom_jvp
    def f(x, y):
        return x * y

    f.defjvps(lambda g, ans, x, y: g * y * 10.0, lambda g, ans, x, y: g * x)
    assert_close(plax.grad(f, argnums=(0, 1))(2.0, 3.0), (30.0, 2.0))

    from functools import partial

    @partial(plax.custom_jvp, nondiff_argnums=(0,))
    def apply(fn, x):
        return fn(x)

    @apply.defjvp
    def apply_jvp(fn, primals, tangents):
        (x,), (t,) = primals, tangents
        return apply(fn, x), 7.0 * t

    assert_close(plax.grad(lambda x: apply(pnp.sin, x))(1.0), 7.0)
    assert_close(plax.jit(plax.grad(lambda x: apply(pnp.sin, x)))(1.0), 7.0)
    assert_close(apply(pnp.sin, 1.0), np.sin(1.0), 1e-6)


def test_custom_vjp_with_nondiff_argnums_and_vmap():
    from functools import partial

    @partial(plax.custom_vjp, nondiff_argnums=(1,))
    def scale(x, factor):
        return x * factor

    def fwd(x, factor):
        return scale(x, factor), None

    def bwd(factor, _, g):
        return (g * factor * 100.0,)

    scale.defvjp(fwd, bwd)
    assert_close(plax.grad(lambda x: scale(x, 2.0))(1.0), 200.0)
    xs = np.arange(3.0, dtype=np.float32)
    assert_close(plax.vmap(plax.grad(lambda x: scale(x, 2.0)))(xs), np.full(3, 200.0))
    assert_close(
        plax.grad(lambda x: pnp.sum(plax.vmap(lambda v: scale(v, 2.0))(x)))(xs), np.full(3, 200.0)
    )


def test_checkpoint_recomputes_in_backward_pass():
    def block(x):
        return pnp.sin(pnp.sin(x))

    g = plax.grad(plax.checkpoint(block))(1.0)
    assert_close(g, plax.grad(block)(1.0))
    jaxpr = plax.make_jaxpr(
        plax.grad(plax.remat(block, policy=plax.checkpoint_policies.dots_saveable))
    )(1.0)
    names = [e.primitive.name for e in jaxpr.eqns]
    # The forward pass is a call (inlined by backends); the backward pass recomputes the
    # inner sin from the saved input instead of reading it from the forward pass.
    assert names[0] == "jit" and jaxpr.eqns[0].params["name"] == "checkpoint"
    assert names.count("sin") == 1 and names.count("cos") == 2


def test_check_grads_detects_a_wrong_rule(x64):
    @plax.custom_jvp
    def f(x):
        return pnp.sin(x)

    f.defjvp(lambda p, t: (pnp.sin(p[0]), pnp.cos(p[0]) * t[0] * 1.01))
    with pytest.raises(AssertionError, match="JVP vs numerical"):
        check_grads(f, (np.array([0.3, 0.4]),), order=1)
    check_grads(pnp.sin, (np.array([0.3, 0.4]),), order=3)


# ----------------------------------------------------------------------------
# Bad input: each error names the mismatch.


def test_grad_of_non_scalar_output():
    with pytest.raises(
        TypeError,
        match=r"Gradient only defined for scalar-output functions\. "
        r"Output had shape: \(3,\)",
    ):
        plax.grad(lambda x: x * 2)(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        plax.grad(lambda x: (x, x))(1.0)


def test_grad_of_integer_inputs_and_outputs():
    with pytest.raises(
        TypeError,
        match="grad requires real- or complex-valued inputs .* but "
        "got int32. If you want to use Boolean- or integer",
    ):
        plax.grad(lambda x: x * 1.0)(np.int32(1))
    with pytest.raises(TypeError, match="but got bool"):
        plax.grad(lambda x: 1.0)(True)
    with pytest.raises(TypeError, match="grad requires real-valued outputs .* but got int32"):
        plax.grad(lambda x: lax.convert_element_type(x, np.int32))(1.0)


def test_grad_argnums_out_of_range():
    with pytest.raises(
        TypeError,
        match="argnums=2 requires at least 3 positional arguments "
        "to be passed by the caller, but got only 2",
    ):
        plax.grad(lambda x, y: x, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match=r"argnums=\(0, 3\) requires at least 4"):
        plax.grad(lambda x, y: x, argnums=(0, 3))(1.0, 2.0)


def test_has_aux_not_a_pair():
    with pytest.raises(
        TypeError,
        match="expected function with aux output to return a "
        "two-element tuple, but got type <class 'tuple'>",
    ):
        plax.grad(lambda x: (x, x, x), has_aux=True)(1.0)
    with pytest.raises(TypeError, match="two-element tuple"):
        plax.grad(lambda x: x, has_aux=True)(1.0)


def test_holomorphic_is_refused():
    with pytest.raises(
        TypeError,
        match="holomorphic=True requires inputs with complex dtype, "
        "but got float32.*no complex dtypes",
    ):
        plax.grad(lambda x: x, holomorphic=True)(1.0)


def test_jvp_argument_errors():
    with pytest.raises(TypeError, match="must be tuples or lists; found float and float"):
        plax.jvp(lambda x: x, 1.0, 1.0)
    with pytest.raises(TypeError, match="must have the same tree structure"):
        plax.jvp(lambda x: x, (1.0,), (1.0, 2.0))
    with pytest.raises(ValueError, match=r"Got primal shape \(3,\) and tangent shape as \(2,\)"):
        plax.jvp(lambda x: x, (np.ones(3, np.float32),), (np.ones(2, np.float32),))
    with pytest.raises(
        TypeError, match="expected tangent dtype float32, but got tangent dtype int32"
    ):
        plax.jvp(lambda x: x, (np.ones(3, np.float32),), (np.ones(3, np.int32),))
    with pytest.raises(TypeError, match="expected tangent dtype float0"):
        plax.jvp(lambda x: x, (np.ones(3, np.int32),), (np.ones(3, np.float32),))


def test_vjp_cotangent_errors():
    _, pullback = plax.vjp(lambda x: x, np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"got float32\[2\], but expected float32\[3\]"):
        pullback(np.ones(2, np.float32))
    with pytest.raises(ValueError, match=r"got int32\[3\], but expected float32\[3\]"):
        pullback(np.ones(3, np.int32))
    with pytest.raises(ValueError, match="unexpected tree structure"):
        pullback((np.ones(3, np.float32),))


def test_custom_rule_errors():
    @plax.custom_jvp
    def f(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined for custom_jvp function f"):
        f(1.0)
    f.defjvp(lambda p, t: (p[0], t[0], 3))
    with pytest.raises(TypeError, match="must produce a pair"):
        plax.jvp(f, (1.0,), (1.0,))
    f.defjvp(lambda p, t: (p[0], np.ones(2, np.float32)))
    with pytest.raises(
        TypeError,
        match=r"Expected float32\[\] \(tangent type of float32\[\]\) "
        r"but got float32\[2\]",
    ):
        plax.jvp(f, (1.0,), (1.0,))

    @plax.custom_vjp
    def g(x):
        return x

    with pytest.raises(AttributeError, match="No VJP defined for custom_vjp function g"):
        g(1.0)
    g.defvjp(lambda x: (x, None), lambda r, ct: ct)
    with pytest.raises(TypeError, match="bwd rule must produce an output with the same container"):
        plax.grad(g)(1.0)
    g.defvjp(lambda x: (x, None), lambda r, ct: (np.ones(2, np.float32),))
    with pytest.raises(
        ValueError,
        match=r"produced an output of type float32\[2\] "
        r"corresponding to an input of type float32\[\]",
    ):
        plax.grad(g)(1.0)
    g.defvjp(lambda x: x, lambda r, ct: (ct,))
    with pytest.raises(TypeError, match="fwd rule .* must produce a pair"):
        plax.grad(g)(1.0)
    g.defvjp(lambda x: (x, None), lambda r, ct: (ct,))
    with pytest.raises(
        TypeError,
        match=r"can't apply forward-mode autodiff \(jvp\) to a "
        "custom_vjp function",
    ):
        plax.jvp(g, (1.0,), (1.0,))


def test_missing_rule_names_the_primitive():
    with pytest.raises(
        NotImplementedError, match="Differentiation rule for 'nextafter' not implemented"
    ):
        plax.grad(lambda x: lax.nextafter(x, 2.0))(1.0)


def test_nonlinear_tangent_rule_is_reported():
    @plax.custom_jvp
    def f(x):
        return x * x

    f.defjvp(lambda p, t: (f(p[0]), t[0] * t[0]))
    with pytest.raises(TypeError, match="'mul' applied non-linearly to tangent values"):
        plax.grad(f)(2.0)


def test_missing_transpose_rule_names_the_primitive():
    from plax import core
    from plax.interpreters.jvp import jvp_rules, linear_jvp
    from plax.interpreters.reference import impl_rules

    twice_p = core.Primitive("twice")
    core.abstract_eval_rules[twice_p] = lambda x: [x]
    impl_rules[twice_p] = lambda x: [x * 2]
    jvp_rules[twice_p] = linear_jvp(twice_p)
    _, t = plax.jvp(twice_p.bind, (1.0,), (1.0,))
    assert_close(t, 2.0)
    with pytest.raises(
        NotImplementedError,
        match=r"Transpose rule \(for reverse-mode differentiation\) for 'twice' not implemented",
    ):
        plax.grad(twice_p.bind)(1.0)
