"""The IR: golden printing, the checker, and the DCE/CSE passes."""

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import lax, passes
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from plax.jaxpr_check import JaxprTypeError, check_jaxpr
from plax.abstract import ShapedArray
from plax.jaxpr_printer import var_name

F32_3 = np.ones(3, np.float32)
sin_p = plax.make_jaxpr(lax.sin)(F32_3).eqns[0].primitive


def test_golden_elementwise():
    text = str(plax.make_jaxpr(lambda x: lax.sin(lax.mul(x, 2.0)))(F32_3))
    assert text == (
        "{ lambda ; a:f32[3]. let\n"
        "    b:f32[3] = broadcast_in_dim[broadcast_dimensions=() shape=(3,)] 2.0:f32[]\n"
        "    c:f32[3] = mul a b\n"
        "    d:f32[3] = sin c\n"
        "  in (d,) }"
    )


def test_golden_one_line_with_constvar():
    c = np.arange(3, dtype=np.float32)
    text = str(plax.make_jaxpr(lambda x: lax.add(x, c))(F32_3))
    assert text == "{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = add b a in (c,) }"


def test_golden_nested_jit():
    inner = plax.jit(lambda x: lax.neg(x))
    text = str(plax.make_jaxpr(lambda x: inner(x))(np.float32(1)))
    assert text == (
        "{ lambda ; a:f32[]. let\n"
        "    b:f32[] = jit[\n"
        "      backend=None\n"
        "      jaxpr={ lambda ; c:f32[]. let d:f32[] = neg c in (d,) }\n"
        "      name=<lambda>\n"
        "    ] a\n"
        "  in (b,) }"
    )


def test_golden_multiple_outputs_and_literal_output():
    text = str(plax.make_jaxpr(lambda x: (x, 1.0))(F32_3))
    assert text == "{ lambda ; a:f32[3]. let  in (a, 1.0:f32[]) }"


def test_golden_unused_outputs_print_as_underscore():
    # The expected strings are JAX 0.10.2's make_jaxpr output for the same functions:
    # an output nothing reads is printed `_` and takes no name.
    sorted_keys = str(plax.make_jaxpr(lambda x: lax.sort_key_val(x, x)[0])(F32_3))
    assert sorted_keys == (
        "{ lambda ; a:f32[3]. let\n"
        "    b:f32[3] _:f32[3] = sort[dimension=0 is_stable=True num_keys=1] a a\n"
        "  in (b,) }"
    )
    indices = str(plax.make_jaxpr(lambda x: lax.top_k(x, 2)[1])(F32_3))
    assert indices == "{ lambda ; a:f32[3]. let _:f32[2] b:i32[2] = top_k[axis=0 k=2] a in (b,) }"
    dead = str(plax.make_jaxpr(lambda x: (lax.sin(x), x)[1])(F32_3))
    assert dead == "{ lambda ; a:f32[3]. let _:f32[3] = sin a in (a,) }"


def test_make_jaxpr_static_argnums():
    jaxpr = plax.make_jaxpr(lambda x, n: lax.mul(x, float(n)), static_argnums=1)(F32_3, 3)
    assert len(jaxpr.in_avals) == 1
    assert "3.0:f32[]" in str(jaxpr)


def test_var_names_follow_jax_numbering():
    assert [var_name(i) for i in (0, 25, 26, 27, 26 * 26)] == ["a", "z", "ba", "bb", "baa"]


def _aval(*shape):
    return ShapedArray(shape, np.float32)


def test_checker_accepts_traced_jaxprs():
    check_jaxpr(plax.make_jaxpr(lambda x: lax.sin(x) + x * 2)(F32_3))


def test_checker_rejects_use_before_definition():
    a, b = Var(_aval(3)), Var(_aval(3))
    eqn = JaxprEqn(sin_p, (b,), {}, (a,))
    with pytest.raises(JaxprTypeError, match="used before it is bound"):
        check_jaxpr(Jaxpr([], [], [a], [eqn]))


def test_checker_rejects_wrong_output_type():
    x, y = Var(_aval(3)), Var(_aval(4))
    eqn = JaxprEqn(sin_p, (x,), {}, (y,))
    with pytest.raises(JaxprTypeError, match="differ from the primitive"):
        check_jaxpr(Jaxpr([], [x], [y], [eqn]))


def test_checker_rejects_double_binding():
    x = Var(_aval(3))
    eqn = JaxprEqn(sin_p, (x,), {}, (x,))
    with pytest.raises(JaxprTypeError, match="bound twice"):
        check_jaxpr(Jaxpr([], [x], [x], [eqn]))


def test_dce_drops_unused_equations_but_keeps_inputs():
    closed = plax.make_jaxpr(lambda x, y: (lax.sin(y), x)[1])(F32_3, F32_3)
    pruned = passes.dce(closed.jaxpr)
    assert len(pruned.eqns) == 0 and len(pruned.invars) == 2


def test_cse_merges_identical_equations_including_literals():
    def f(x):
        return lax.add(lax.mul(x, 2.0), lax.mul(x, 2.0))

    jaxpr = passes.cse(plax.make_jaxpr(f)(F32_3).jaxpr)
    assert [e.primitive.name for e in jaxpr.eqns].count("mul") == 1
    check_jaxpr(jaxpr)


def test_cse_keeps_different_params_apart():
    jaxpr = plax.make_jaxpr(
        lambda x: (lax.convert_element_type(x, np.int32), lax.convert_element_type(x, np.int8))
    )(F32_3)
    assert len(passes.cse(jaxpr.jaxpr).eqns) == 2


def test_simplified_jaxpr_computes_the_same_values():
    def f(x):
        a = lax.sin(x)
        b = lax.sin(x)
        return a * b + lax.neg(x)

    closed = plax.make_jaxpr(f)(F32_3)
    simple = passes.simplify(closed)
    from plax.interpreters.reference import eval_closed_jaxpr

    x = np.linspace(0, 1, 3).astype(np.float32)
    np.testing.assert_allclose(eval_closed_jaxpr(simple, [x])[0], eval_closed_jaxpr(closed, [x])[0])


def test_closed_jaxpr_const_count_is_checked():
    with pytest.raises(ValueError, match="consts"):
        ClosedJaxpr(Jaxpr([Var(_aval(1))], [], [], []), [])


def test_literal_equality_key_distinguishes_dtype():
    a = Literal(1.0, ShapedArray((), np.float32))
    b = Literal(1.0, ShapedArray((), np.float16))
    assert a.key() != b.key()
