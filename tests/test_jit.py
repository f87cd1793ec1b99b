"""jit: tracing once per abstract signature, static arguments, pytrees, lowering."""

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import lax


def test_jit_matches_eager():
    def f(x, y):
        return lax.sin(lax.mul(x, y)) + x

    x = pnp.array(np.linspace(-1, 1, 7, dtype=np.float32))
    y = pnp.array(np.float32(3))
    np.testing.assert_allclose(plax.jit(f)(x, y), f(x, y), rtol=1e-6)


def test_print_runs_once_per_abstract_signature(capsys):
    @plax.jit
    def f(x):
        print("tracing")
        return x * 2

    f(pnp.ones(3))
    f(pnp.ones(3) * 5)
    assert capsys.readouterr().out.count("tracing") == 1
    f(pnp.ones(4))  # new shape -> new trace
    f(pnp.ones(4, dtype=pnp.int32))  # new dtype -> new trace
    assert capsys.readouterr().out.count("tracing") == 2
    f(1.0)  # weak scalar is its own signature
    f(2.0)
    assert capsys.readouterr().out.count("tracing") == 1


def test_static_argnums_and_argnames_retrace_on_value():
    calls = []

    def f(x, n, *, scale):
        calls.append((n, scale))
        return x * n * scale

    g = plax.jit(f, static_argnums=1, static_argnames="scale")
    x = pnp.ones(2)
    np.testing.assert_allclose(g(x, 3, scale=2), [6, 6])
    np.testing.assert_allclose(g(x, 3, scale=2), [6, 6])
    np.testing.assert_allclose(g(x, 4, scale=2), [8, 8])
    assert calls == [(3, 2), (4, 2)]


def test_static_argnum_also_accepted_by_name():
    g = plax.jit(lambda x, n: x * n, static_argnums=1)
    np.testing.assert_allclose(g(pnp.ones(2), n=3), [3, 3])


def test_if_on_traced_value_raises_and_static_version_works():
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(plax.errors.TracerBoolConversionError) as info:
        plax.jit(f)(pnp.float32(2.0))
    message = str(info.value)
    assert "static_argnums" in message and "lax.cond" in message
    assert isinstance(info.value, plax.errors.ConcretizationTypeError)
    assert float(plax.jit(f, static_argnums=0)(-2.0)) == 2.0


def test_int_and_array_conversion_of_tracers_raise():
    with pytest.raises(plax.errors.TracerIntegerConversionError, match="static_argnums"):
        plax.jit(lambda x: pnp.ones(3)[: int(x)])(3)
    with pytest.raises(plax.errors.TracerArrayConversionError, match="numpy.asarray"):
        plax.jit(lambda x: np.asarray(x))(pnp.ones(2))
    with pytest.raises(plax.errors.TracerArrayConversionError):
        plax.jit(lambda x: float(x))(1.0)


def test_unhashable_static_argument_is_a_clear_error():
    g = plax.jit(lambda x, opts: x, static_argnums=1)
    with pytest.raises(ValueError, match="Non-hashable static arguments.*list"):
        g(pnp.ones(2), [1, 2])


def test_non_array_argument_points_to_static_argnums():
    with pytest.raises(TypeError, match="static_argnums"):
        plax.jit(lambda x, s: x)(pnp.ones(1), "mode")


def test_pytrees_in_and_out():
    @plax.jit
    def f(params, batch):
        w, b = params["w"], params["b"]
        return {"out": batch * w + b, "pair": (w, [b])}

    params = {"w": pnp.float32(2.0), "b": pnp.float32(1.0)}
    out = f(params, pnp.arange(3.0))
    np.testing.assert_allclose(out["out"], [1, 3, 5])
    assert isinstance(out["pair"], tuple) and isinstance(out["pair"][1], list)
    assert float(out["pair"][1][0]) == 1.0


def test_python_scalars_and_numpy_arrays_as_arguments():
    f = plax.jit(lambda x, y: x + y)
    out = f(np.ones(3, np.float32), 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [3, 3, 3])


def test_weak_type_of_jit_result_follows_inputs():
    f = plax.jit(lambda x: x * 2)
    assert f(1.0).weak_type
    assert not f(pnp.float32(1.0)).weak_type


def test_nested_jit_records_a_jit_equation():
    inner = plax.jit(lambda x: lax.sin(x))
    outer = plax.jit(lambda x: inner(x) * 2)
    jaxpr = plax.make_jaxpr(outer)(pnp.ones(3))
    assert [e.primitive.name for e in jaxpr.eqns] == ["jit"]
    np.testing.assert_allclose(outer(pnp.ones(3)), 2 * np.sin(np.ones(3)), rtol=1e-6)


def test_closure_over_constant_array():
    c = pnp.arange(4.0)
    f = plax.jit(lambda x: x + c)
    np.testing.assert_allclose(f(pnp.ones(4)), [1, 2, 3, 4])
    assert len(f.lower(pnp.ones(4)).jaxpr.consts) == 1


def test_lower_exposes_jaxpr_and_backend_output():
    f = plax.jit(lambda x: lax.sin(x) * 2)
    lowered = f.lower(pnp.ones(3))
    assert "sin" in lowered.as_text()
    compiled = lowered.compile()
    assert isinstance(compiled.as_text(), str) and compiled.as_text()
    np.testing.assert_allclose(compiled(pnp.ones(3)), 2 * np.sin(np.ones(3)), rtol=1e-6)


def test_jit_removes_dead_code_and_duplicates():
    def f(x):
        unused = lax.sin(x)  # noqa: F841
        a = lax.mul(x, x)
        b = lax.mul(x, x)
        return a + b

    jaxpr = plax.jit(f).lower(pnp.ones(3)).jaxpr
    names = [e.primitive.name for e in jaxpr.eqns]
    assert names.count("mul") == 1 and "sin" not in names


def test_leaked_tracer_is_detected():
    leaked = []

    @plax.jit
    def f(x):
        leaked.append(x)
        return x

    f(pnp.ones(2))
    with pytest.raises(plax.errors.UnexpectedTracerError, match="escaped|after that"):
        plax.jit(lambda y: y + leaked[0])(pnp.ones(2))


def test_jit_as_decorator_with_options():
    @plax.jit(static_argnames=("n",))
    def power(x, n):
        out = x
        for _ in range(n - 1):
            out = out * x
        return out

    np.testing.assert_allclose(power(pnp.float32(2.0), n=5), 32.0)


def test_jit_on_explicit_backend():
    f = plax.jit(lambda x: x + 1, backend="reference")
    out = f(pnp.ones(2))
    assert out.device.backend_name == "reference"


def test_eval_shape_runs_nothing():
    out = plax.eval_shape(lambda x: (x * 2, x.sum()), plax.ShapeDtypeStruct((3, 4), np.float32))
    assert out[0].shape == (3, 4) and out[0].dtype == np.float32
    assert out[1].shape == ()


def test_norm_jit_and_eager_agree():
    rng = np.random.default_rng(0)
    X = pnp.asarray(rng.normal(size=(10000, 10)).astype(np.float32))

    def norm(X):
        return (X - X.mean(0)) / X.std(0)

    np.testing.assert_allclose(plax.jit(norm)(X), norm(X), atol=1e-6, rtol=1e-6)


def test_jit_of_a_wrapper_around_a_jitted_function_keeps_its_own_cache():
    import functools

    inner = plax.jit(lambda x: x * 2)

    @functools.wraps(inner)
    def wrapper(x):
        return inner(x) + 1

    outer = plax.jit(wrapper)
    np.testing.assert_allclose(outer(pnp.ones(2)), [3, 3])
    assert outer._fun is wrapper
