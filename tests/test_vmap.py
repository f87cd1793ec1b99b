"""``plax.vmap``: in_axes / out_axes specifications, axis_size, nesting, composition
with jit (and grad), values computed by JAX, and the errors for bad input."""

from __future__ import annotations

import importlib.util
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import core, lax
from plax.interpreters import batching

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_generator():
    path = os.path.join(HERE, "data", "generate_vmap_cases.py")
    spec = importlib.util.spec_from_file_location("generate_vmap_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _load_generator()
with open(os.path.join(HERE, "data", "vmap_cases.json")) as _f:
    JAX_CASES = json.load(_f)["cases"]


def _arange(*shape, dtype=np.float32):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def _assert_tree_close(got, want, rtol=1e-6, atol=1e-6):
    got_leaves, got_tree = plax.tree_util.tree_flatten(got)
    want_leaves, want_tree = plax.tree_util.tree_flatten(want)
    assert got_tree == want_tree, f"{got_tree} != {want_tree}"
    for g, w in zip(got_leaves, want_leaves):
        g = np.asarray(g)
        w = np.asarray(w)
        assert g.shape == w.shape, f"shape {g.shape} != {w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------
# in_axes and out_axes.


@pytest.mark.parametrize("in_axis", [0, 1, 2, -1, -2, -3])
def test_in_axes_int(in_axis):
    x = _arange(2, 3, 4)
    out = plax.vmap(lambda v: v * 2.0 + 1.0, in_axes=in_axis)(x)
    want = np.moveaxis(x, in_axis, 0) * 2.0 + 1.0
    np.testing.assert_array_equal(np.asarray(out), want)


@pytest.mark.parametrize("out_axis", [0, 1, 2, -1, -2, -3])
def test_out_axes_int(out_axis):
    x = _arange(2, 3, 4)
    out = plax.vmap(lambda v: lax.sin(v), in_axes=1, out_axes=out_axis)(x)
    want = np.moveaxis(np.sin(np.moveaxis(x, 1, 0)), 0, out_axis)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6)


def test_in_axes_none_broadcasts_with_mapped():
    x = _arange(3, 4)
    y = _arange(4) * 10
    out = plax.vmap(lambda a, b: a + b, in_axes=(0, None))(x, y)
    np.testing.assert_array_equal(np.asarray(out), x + y)
    out = plax.vmap(lambda a, b: a + b, in_axes=(None, 1))(y, x.T)
    np.testing.assert_array_equal(np.asarray(out), x + y)


def test_list_in_axes_means_tuple():
    x = _arange(3, 4)
    out = plax.vmap(lambda a, b: a - b, in_axes=[1, None])(x, np.float32(1.0))
    np.testing.assert_array_equal(np.asarray(out), x.T - 1.0)


def test_out_axes_none_for_unbatched_output():
    x = _arange(3, 4)
    s = np.float32(5.0)
    out, same = plax.vmap(lambda a, b: (a * b, b + 1.0), in_axes=(0, None),
                          out_axes=(0, None))(x, s)
    np.testing.assert_array_equal(np.asarray(out), x * 5.0)
    assert np.asarray(same).shape == ()
    assert float(same) == 6.0


def test_unbatched_output_is_broadcast():
    x = _arange(3, 4)
    out = plax.vmap(lambda a: (a, np.float32(2.0)), out_axes=(1, -1))(x)
    np.testing.assert_array_equal(np.asarray(out[0]), x.T)
    np.testing.assert_array_equal(np.asarray(out[1]), np.full((3,), 2.0, np.float32))
    out = plax.vmap(lambda a, b: b * 2.0, in_axes=(0, None), out_axes=1)(x, _arange(2))
    np.testing.assert_array_equal(np.asarray(out), np.stack([_arange(2) * 2] * 3, axis=1))


def test_pytree_in_axes_tuple_and_dict_args():
    params = {"w": _arange(3, 2), "b": _arange(2)}
    xs = _arange(4, 3)

    def f(p, x):
        return {"y": x @ p["w"] + p["b"], "n": pnp.sum(x)}

    out = plax.vmap(f, in_axes=({"w": None, "b": None}, 0))(params, xs)
    np.testing.assert_allclose(np.asarray(out["y"]), xs @ params["w"] + params["b"])
    np.testing.assert_allclose(np.asarray(out["n"]), xs.sum(1))
    # A dict prefix mapping one entry, out_axes as a dict prefix of the output.
    bs = _arange(5, 2)
    out = plax.vmap(f, in_axes=({"w": None, "b": 0}, None), out_axes={"y": 1, "n": 0})(
        {"w": params["w"], "b": bs}, xs
    )
    assert np.asarray(out["y"]).shape == (4, 5, 2)
    np.testing.assert_allclose(np.asarray(out["y"][:, 3]), xs @ params["w"] + bs[3])
    np.testing.assert_allclose(np.asarray(out["n"]), np.full((5,), xs.sum()))


def test_nested_tuple_prefix():
    a, b, c = _arange(3, 2), _arange(2), _arange(2, 3)
    out = plax.vmap(lambda t, z: t[0] + t[1] + z, in_axes=((0, None), 1))((a, b), c)
    np.testing.assert_array_equal(np.asarray(out), a + b + c.T)


def test_kwargs_are_mapped_on_axis_zero():
    x = _arange(3, 2)
    out = plax.vmap(lambda a, *, k: a * k, in_axes=(1,))(x.T, k=_arange(3, 1) + 1)
    np.testing.assert_array_equal(np.asarray(out), x * (_arange(3, 1) + 1))


def test_axis_size_without_mapped_arguments():
    out = plax.vmap(lambda: np.float32(3.0), axis_size=4)()
    np.testing.assert_array_equal(np.asarray(out), np.full((4,), 3.0, np.float32))
    x = _arange(2)
    out = plax.vmap(lambda a: a + 1.0, in_axes=None, axis_size=3, out_axes=1)(x)
    np.testing.assert_array_equal(np.asarray(out), np.stack([x + 1] * 3, axis=1))


def test_axis_size_agrees_with_arguments():
    out = plax.vmap(lambda a: a * 2.0, axis_size=3)(_arange(3, 2))
    np.testing.assert_array_equal(np.asarray(out), _arange(3, 2) * 2)


def test_axis_name_is_recorded():
    f = plax.vmap(lambda a: a + 1.0, axis_name="batch")
    assert f.axis_name == "batch"
    np.testing.assert_array_equal(np.asarray(f(_arange(3))), _arange(3) + 1)


def test_dtypes_and_weak_types_are_kept():
    xi = _arange(3, 2, dtype=np.int32)
    out = plax.vmap(lambda a: a * 2)(xi)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(out), xi * 2)
    assert isinstance(out, plax.Array)


def test_numpy_functions_under_vmap():
    x = _arange(4, 3) - 5.0
    out = plax.vmap(lambda v: pnp.where(v > 0, v, 0.0).mean() + pnp.sqrt(pnp.sum(v * v)))(x)
    want = np.where(x > 0, x, 0).mean(1) + np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6)


def test_indexing_with_batched_index():
    x = _arange(4, 6)
    idx = np.array([0, 5, -1, 2], np.int32)
    out = plax.vmap(lambda row, i: lax.dynamic_index_in_dim(row, i, keepdims=False))(x, idx)
    np.testing.assert_array_equal(np.asarray(out), x[np.arange(4), idx])


def test_returns_tracer_free_results_and_no_leak():
    f = plax.vmap(lambda a: a * a)
    out = f(_arange(3))
    assert not isinstance(out, core.Tracer)
    assert core.at_top_level()


# ----------------------------------------------------------------------------
# Nesting and composition with jit.


def test_nested_vmap_outer_product():
    a, b = _arange(3), _arange(4)
    f = plax.vmap(plax.vmap(lambda x, y: x * y, in_axes=(0, None)), in_axes=(None, 0))
    np.testing.assert_array_equal(np.asarray(f(a, b)), np.outer(b, a))


def test_nested_vmap_batched_matmul():
    a, b = _arange(2, 3, 4), _arange(2, 4, 5)
    f = plax.vmap(plax.vmap(lambda x, y: pnp.dot(x, y), in_axes=(0, None)), in_axes=(0, 0))
    np.testing.assert_allclose(np.asarray(f(a, b)), a @ b)


def test_three_levels_with_mixed_axes():
    x = _arange(2, 3, 4)
    f = plax.vmap(plax.vmap(plax.vmap(lambda v: v + 1.0, in_axes=0), in_axes=1), in_axes=2)
    want = np.transpose(x, (2, 1, 0)) + 1.0
    np.testing.assert_array_equal(np.asarray(f(x)), want)


def test_vmap_of_jit_batches_the_inner_jaxpr():
    jitted = plax.jit(lambda x, w: pnp.tanh(x @ w))
    f = plax.vmap(jitted, in_axes=(0, None))
    x, w = _arange(4, 3) / 10, _arange(3, 2) / 10
    np.testing.assert_allclose(np.asarray(f(x, w)), np.tanh(x @ w), rtol=1e-6)
    jaxpr = plax.make_jaxpr(f)(x, w)
    (eqn,) = jaxpr.eqns
    assert eqn.primitive.name == "jit"
    inner = eqn.params["jaxpr"]
    assert [a.shape for a in inner.in_avals] == [(4, 3), (3, 2)]
    assert [a.shape for a in inner.out_avals] == [(4, 2)]


def test_jit_of_vmap_and_vmap_of_jit_agree():
    def f(x, y):
        return lax.reduce_max(lax.cumsum(x * y, 0), (0,)) + lax.sort(x, 0)

    x, y = _arange(3, 5) - 7.0, _arange(3) / 3
    a = plax.jit(plax.vmap(f, in_axes=(1, None)))(x, y)
    b = plax.vmap(plax.jit(f), in_axes=(1, None))(x, y)
    c = plax.vmap(f, in_axes=(1, None))(x, y)
    np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(b), np.asarray(c), rtol=1e-6)


def test_vmap_of_jit_with_closure_over_batched_value():
    x = _arange(3, 2)

    def per_example(v):
        return plax.jit(lambda u: u * v)(np.float32(2.0))

    np.testing.assert_array_equal(np.asarray(plax.vmap(per_example)(x)), x * 2)


def test_vmap_of_jit_unbatched_output_stays_unbatched():
    f = plax.jit(lambda a, b: (a * 2.0, b + 1.0))
    out = plax.vmap(f, in_axes=(0, None), out_axes=(0, None))(_arange(3), np.float32(1.0))
    assert float(out[1]) == 2.0


def test_vmap_of_jit_cache_reuses_batched_jaxpr():
    jitted = plax.jit(lambda x: lax.exp(x))
    f = plax.vmap(jitted)
    f(_arange(3, 2))
    before = len(plax.vmap_api._batched_jaxprs)
    f(_arange(3, 2) + 1)
    assert len(plax.vmap_api._batched_jaxprs) == before


# ----------------------------------------------------------------------------
# Values computed by JAX (tests/data/vmap_cases.json).


def _namespace():
    grad = getattr(getattr(plax, "autodiff", None), "grad", None)
    return SimpleNamespace(np=pnp, lax=lax, jit=plax.jit, vmap=plax.vmap, grad=grad)


@pytest.mark.parametrize("name", sorted(GEN.CASES))
def test_against_jax(name):
    m = _namespace()
    if name in GEN.NEEDS_GRAD and m.grad is None:
        pytest.skip("plax.autodiff.grad is not available")
    case = JAX_CASES[name]
    args = GEN.decode(case["inputs"])
    want = GEN.decode(case["output"])
    got = GEN.CASES[name](m)(*args)
    if isinstance(want, tuple) and not isinstance(got, tuple):
        want = list(want)
    _assert_tree_close(got, want, rtol=2e-5, atol=2e-5)


# ----------------------------------------------------------------------------
# Bad input.


def test_in_axes_tuple_length_mismatch():
    with pytest.raises(ValueError, match=r"len\(in_axes\)=3, len\(args\)=2"):
        plax.vmap(lambda a, b: a + b, in_axes=(0, 0, 0))(_arange(3), _arange(3))


def test_in_axes_structure_mismatch_shows_both():
    with pytest.raises(ValueError) as info:
        plax.vmap(lambda a: a[0], in_axes=({"a": 0},))((_arange(3), _arange(3)))
    msg = str(info.value)
    assert "tree prefix" in msg
    assert "in_axes[0]" in msg
    assert "a dict with keys ['a']" in msg and "a tuple of length 2" in msg
    assert "{'a': 0}" in msg and "f32[3]" in msg


def test_in_axes_dict_keys_mismatch():
    with pytest.raises(ValueError) as info:
        plax.vmap(lambda p: p["a"], in_axes=({"a": 0, "b": 1},))({"a": _arange(3)})
    msg = str(info.value)
    assert "keys ['a', 'b']" in msg and "keys ['a']" in msg


def test_in_axes_bad_types():
    with pytest.raises(TypeError, match="vmap in_axes must be an int, None, or a tuple"):
        plax.vmap(lambda a: a, in_axes="a")
    with pytest.raises(TypeError, match="vmap in_axes must be an int, None, or a tuple"):
        plax.vmap(lambda a: a, in_axes=1.0)
    with pytest.raises(TypeError, match="with those types as leaves"):
        plax.vmap(lambda a: a, in_axes=(0.5,))
    with pytest.raises(TypeError, match="out_axes"):
        plax.vmap(lambda a: a, out_axes="x")


@pytest.mark.parametrize("axis", [2, -3])
def test_in_axis_out_of_range_names_argument_and_rank(axis):
    def f(x):
        return x

    with pytest.raises(ValueError) as info:
        plax.vmap(f, in_axes=axis)(_arange(3, 4))
    msg = str(info.value)
    assert f"along axis {axis}" in msg
    assert "argument x" in msg and "rank 2" in msg and "(3, 4)" in msg


def test_mapping_a_scalar_is_an_error():
    with pytest.raises(ValueError, match="has rank 0"):
        plax.vmap(lambda x: x)(1.0)


def test_mapping_a_non_array_is_an_error():
    with pytest.raises(TypeError, match="in_axes None"):
        plax.vmap(lambda x, s: x, in_axes=(0, 0))(_arange(3), "text")


def test_inconsistent_sizes_list_every_argument():
    def f(a, b, c):
        return a

    x, y = _arange(3, 4), _arange(5, 4)
    with pytest.raises(ValueError) as info:
        plax.vmap(f)(x, y, (x, y))
    msg = str(info.value)
    assert "inconsistent sizes for array axes to be mapped" in msg
    assert "2 axes had size 3, e.g. axis 0 of argument a of type f32[3,4]" in msg
    assert "2 axes had size 5, e.g. axis 0 of argument b of type f32[5,4]" in msg
    assert "argument a: 3" in msg and "argument b: 5" in msg
    assert "argument c[0]: 3" in msg and "argument c[1]: 5" in msg


def test_inconsistent_axis_size_argument():
    with pytest.raises(ValueError, match=r"the `axis_size` argument was 4"):
        plax.vmap(lambda a: a, axis_size=4)(_arange(3, 2))


def test_no_mapped_argument_needs_axis_size():
    with pytest.raises(ValueError, match="at least one non-None value in in_axes"):
        plax.vmap(lambda a: a, in_axes=None)(_arange(3))
    with pytest.raises(ValueError, match="axis_size must be specified"):
        plax.vmap(lambda: 1.0)()


@pytest.mark.parametrize("out_axis", [3, -4])
def test_out_axes_out_of_range(out_axis):
    with pytest.raises(ValueError) as info:
        plax.vmap(lambda a: a, out_axes=out_axis)(_arange(3, 4, 2))
    msg = str(info.value)
    assert f"axis {out_axis} is out of range" in msg and "rank 2 per example" in msg


def test_out_axes_none_for_batched_output():
    with pytest.raises(ValueError, match="got axis spec None but output was batched on axis 0"):
        plax.vmap(lambda a: (a, a * 2), out_axes=(0, None))(_arange(3))


def test_out_axes_structure_mismatch_shows_both():
    with pytest.raises(ValueError) as info:
        plax.vmap(lambda a: (a, a), out_axes=(0, 0, 0))(_arange(3))
    msg = str(info.value)
    assert "out_axes specification must be a tree prefix" in msg
    assert "a tuple of length 3" in msg and "a tuple of length 2" in msg
    assert "(0, 0, 0)" in msg and "(f32[], f32[])" in msg


def test_missing_batching_rule_is_a_clear_error():
    p = core.Primitive("test_only_no_batching_rule")
    core.abstract_eval_rules[p] = lambda x: [x]
    with pytest.raises(NotImplementedError, match="test_only_no_batching_rule.*no batching rule"):
        plax.vmap(lambda x: p.bind(x))(_arange(3))


def test_collectives_are_not_supported():
    with pytest.raises(NotImplementedError, match="collectives are not supported"):
        plax.vmap(lambda x: lax.psum(x, "i"), axis_name="i")(_arange(3))
    with pytest.raises(NameError, match="unbound axis name: 'j'"):
        plax.vmap(lambda x: lax.psum(x, "j"), axis_name="i")(_arange(3))


def test_batching_helpers():
    x = _arange(2, 3, 4)
    assert np.asarray(batching.moveaxis(x, 2, 0)).shape == (4, 2, 3)
    assert batching.moveaxis(x, 1, 1) is x
    assert np.asarray(batching.bdim_at_front(_arange(3), None, 5)).shape == (5, 3)
    assert np.asarray(batching.matchaxis(_arange(3), None, 1, 4)).shape == (3, 4)
    assert batching.shift_axes((0, 1, 2), 1) == (0, 2, 3)
    assert batching.bdim_after_removing(2, (0, 3)) == 1


def test_batch_jaxpr_for_control_flow():
    closed = plax.make_jaxpr(lambda a, b: (a * b, b + 1.0, a))(np.float32(1), np.float32(2))
    batched, out_batched = batching.batch_jaxpr(closed, 3, [True, False], [False, False, True])
    assert out_batched == [True, False, True]
    assert [a.shape for a in batched.in_avals] == [(3,), ()]
    assert [a.shape for a in batched.out_avals] == [(3,), (), (3,)]
    batched, out_batched = batching.batch_jaxpr(closed, 3, [False, False], True)
    assert out_batched == [True, True, True]
    assert [a.shape for a in batched.out_avals] == [(3,), (3,), (3,)]
