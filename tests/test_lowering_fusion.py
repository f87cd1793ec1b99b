"""The lowering toolkit without any backend: index simplification, the fusion
plan's structure, and schedules run by the kernel-IR interpreter agreeing with
the reference interpreter."""

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import lax
from plax.lowering import index as ix
from plax.lowering import interpreter, passes, plan
from plax.lowering.fusion import Target
from plax.lowering.kernel_ir import (
    INDEX,
    Accum,
    Const,
    Kernel,
    Buffer,
    Load,
    Loop,
    Op,
    Store,
    Sym,
    Update,
    kernel_text,
)
from plax.lowering.schedule import HostStep, KernelStep, LibraryStep


def _plan(f, *args, target=None):
    return plan(plax.make_jaxpr(f)(*args), target or Target())


def _run(f, *args, target=None):
    schedule = _plan(f, *args, target=target)
    got = interpreter.run_schedule(schedule, [np.asarray(a) for a in args])
    want = plax.jit(f, backend="reference")(*args)
    want = want if isinstance(want, (list, tuple)) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                                   rtol=1e-6, atol=1e-6)
    return schedule


def _kernel_steps(schedule):
    return [s for s in schedule.steps if isinstance(s, KernelStep)]


# ----------------------------------------------------------------------------
# Index arithmetic.


def test_reshape_round_trip_simplifies_to_loop_vars():
    ranges = {"i": 6, "j": 4}
    i, j = Sym("i"), Sym("j")
    flat = ix.flat_index((i, j), (6, 4))
    assert ix.unflatten(flat, (6, 4), ranges) == (i, j)
    # (6, 4) -> (3, 2, 4): the split dim needs div/mod, the kept one does not.
    a, b, c = ix.unflatten(flat, (3, 2, 4), ranges)
    assert c == j
    assert isinstance(a, Op) and a.op == "div"


def test_floordiv_and_mod_use_ranges():
    ranges = {"i": 8, "j": 4}
    e = ix.add(ix.mul(Sym("i"), 4), Sym("j"))
    assert ix.floordiv(e, 4, ranges) == Sym("i")
    assert ix.mod(e, 4, ranges) == Sym("j")
    assert ix.floordiv(Sym("j"), 4, ranges) == ix.const(0)
    assert ix.value_range(e, ranges) == (0, 31)


def test_minimum_maximum_fold_when_ranges_decide():
    ranges = {"i": 4}
    assert ix.minimum(Sym("i"), ix.const(10), ranges) == Sym("i")
    assert ix.maximum(Sym("i"), ix.const(0), ranges) == Sym("i")
    assert isinstance(ix.minimum(Sym("i"), ix.const(2), ranges), Op)


# ----------------------------------------------------------------------------
# Kernel IR and passes.


def test_merge_loops_collapses_contiguous_nest():
    body = [Loop("i", 3, [Loop("j", 4, [
        Store("out0", ix.add(ix.mul(Sym("i"), 4), Sym("j")),
              Op("add", [Load("in0", ix.add(ix.mul(Sym("i"), 4), Sym("j")), np.float32),
                         Const(1.0, np.float32)], np.float32))
    ])], parallel=True)]
    (loop,) = passes.merge_loops(body)
    assert loop.extent == 12 and loop.parallel
    assert isinstance(loop.body[0], Store) and loop.body[0].index == Sym("i")


def test_merge_loops_refuses_transposed_access():
    idx_out = ix.add(ix.mul(Sym("i"), 4), Sym("j"))
    idx_in = ix.add(Sym("i"), ix.mul(Sym("j"), 3))
    body = [Loop("i", 3, [Loop("j", 4, [Store("out0", idx_out, Load("in0", idx_in, np.float32))])])]
    (loop,) = passes.merge_loops(body)
    assert loop.extent == 3 and isinstance(loop.body[0], Loop)


def test_kernel_text_hides_parallel_extent():
    def make(n):
        body = [Loop("i", n, [Store("out0", Sym("i"), Load("in0", Sym("i"), np.float32))],
                     parallel=True)]
        return Kernel("k", [Buffer("in0", np.float32, (n,), "in"),
                            Buffer("out0", np.float32, (n,), "out")], body)

    assert make(10).text() == make(1000).text()
    assert "< 10" in kernel_text(make(10))


def test_interpreter_runs_kernel_ir():
    body = [
        Accum("acc", np.float32, Const(0.0, np.float32)),
        Loop("i", 5, [Update("acc", "add", Load("in0", Sym("i"), np.float32))]),
        Store("out0", ix.const(0), Sym("acc", np.float32)),
    ]
    kernel = Kernel("k", [Buffer("in0", np.float32, (5,), "in"),
                          Buffer("out0", np.float32, (1,), "out")], body)
    out = np.zeros(1, np.float32)
    interpreter.interpret_kernel(kernel, {"in0": np.arange(5, dtype=np.float32), "out0": out})
    assert out[0] == 10


def test_index_dtype_is_int64():
    assert ix.const(3).dtype == INDEX == np.dtype(np.int64)


# ----------------------------------------------------------------------------
# Fusion plans.

X = np.arange(12, dtype=np.float32).reshape(3, 4) / 7 - 0.5


def test_elementwise_chain_is_one_flat_kernel():
    s = _run(lambda x: lax.exp(x) * 2 + lax.sin(x), X)
    (k,) = _kernel_steps(s)
    loop = k.kernel.parallel_loop
    assert loop is not None and loop.extent == 12 and not isinstance(loop.body[0], Loop)


def test_broadcast_and_layout_ops_fold_into_one_kernel():
    def f(x, v):
        y = lax.transpose(x, (1, 0))[1:, ::2]
        return y + lax.broadcast_in_dim(v, y.shape, (1,))

    s = _run(f, X, np.float32([1, 2]))
    assert len(_kernel_steps(s)) == 1 and s.counts()["host"] == 0


def test_softmax_is_one_row_kernel():
    def softmax(x):
        m = lax.reduce_max(x, (1,))
        e = lax.exp(x - lax.broadcast_in_dim(m, x.shape, (0,)))
        return e / lax.broadcast_in_dim(lax.reduce_sum(e, (1,)), x.shape, (0,))

    s = _run(softmax, X)
    (k,) = _kernel_steps(s)
    assert k.kernel.parallel_loop is not None and k.kernel.parallel_loop.extent == 3


def test_layernorm_is_one_row_kernel():
    def layernorm(x):
        m = pnp.mean(x, axis=-1, keepdims=True)
        v = pnp.mean((x - m) ** 2, axis=-1, keepdims=True)
        return (x - m) / pnp.sqrt(v + 1e-5)

    s = _run(layernorm, X)
    assert len(_kernel_steps(s)) == 1


def test_column_reduction_is_materialised_and_accumulates():
    def norm(x):
        return (x - x.mean(0)) / x.std(0)

    s = _run(norm, X)
    sums = [k for k in _kernel_steps(s) if k.note.split(",")[-1] == "reduce_sum"]
    assert len(sums) == 2
    # The column sums accumulate over rows in memory order (outer loop: rows).
    for k in sums:
        init, accumulate = k.kernel.body
        assert accumulate.extent == 3 and accumulate.body[0].extent == 4


def test_broadcast_along_outer_dims_materialises_expensive_operands():
    # mean and std vary along the inner (column) loop and repeat along rows:
    # they are computed once, in small kernels, not per element.
    s = _run(lambda x: (x - x.mean(0)) / x.std(0), X)
    small = [k for k in _kernel_steps(s) if k.out_avals[0].size == 4 and "reduce" not in k.note]
    assert len(small) >= 2
    (last,) = [k for k in _kernel_steps(s) if k.out_avals[0].shape == (3, 4)]
    assert "sqrt" not in last.note


def test_expensive_value_with_two_consumers_is_materialised():
    def f(x):
        e = lax.exp(lax.exp(lax.exp(x)))
        return e + 1, e * 2

    s = _run(f, X)
    assert len(_kernel_steps(s)) == 3


def test_cheap_value_with_two_consumers_is_recomputed():
    def f(x):
        e = x * 2
        return e + 1, e * 3

    s = _run(f, X)
    assert len(_kernel_steps(s)) == 2


def test_unsupported_primitive_is_a_host_step():
    s = _run(lambda x: lax.cumsum(x, 1) * 2, X)
    kinds = [step.kind for step in s.steps]
    assert kinds == ["host", "kernel"]


def test_target_without_an_op_makes_it_a_host_step():
    target = Target(supports_op=lambda op, ins, out: op != "sin")
    s = _run(lambda x: lax.sin(x) + 1, X, target=target)
    assert [step.kind for step in s.steps] == ["host", "kernel"]
    assert isinstance(s.steps[0], HostStep)


def test_library_primitives_become_library_steps():
    target = Target(library=frozenset({"dot_general"}))
    s = _run(lambda a, b: pnp.tanh(a @ b), X, X.T.copy(), target=target)
    assert isinstance(s.steps[0], LibraryStep) and s.steps[1].kind == "kernel"


def test_nested_jit_is_inlined():
    inner = plax.jit(lambda x: x * 2)

    def f(x):
        return inner(inner(x)) + 1

    s = _run(f, X)
    assert [step.kind for step in s.steps] == ["kernel"]


def test_full_reduction_splits_into_parallel_partials():
    x = np.linspace(-1, 1, 1 << 17, dtype=np.float32)
    s = _plan(lambda x: lax.reduce_sum(x, (0,)), x, target=Target(threads=2))
    partial, final = _kernel_steps(s)
    assert partial.kernel.parallel_loop is not None
    assert final.kernel.parallel_loop is None
    assert final.inputs[-1] == partial.outputs[0]
    # Small reductions, or a single thread, stay one kernel.
    assert len(_kernel_steps(_plan(lambda x: lax.reduce_sum(x, (0,)), x[:100],
                                   target=Target(threads=2)))) == 1
    assert len(_kernel_steps(_plan(lambda x: lax.reduce_sum(x, (0,)), x,
                                   target=Target(threads=1)))) == 1


def test_intermediates_are_freed_after_last_use():
    s = _run(lambda x: lax.cumsum(lax.cumsum(x, 0), 1) + 1, X)
    first, second, third = s.steps
    assert s.frees[0] == s.input_slots
    assert s.frees[1] == first.outputs
    assert s.frees[2] == second.outputs
    assert third.outputs == s.outputs


def test_outputs_that_are_inputs_and_literals():
    s = _run(lambda x: (x, 3.0, x + 1), X)
    assert s.outputs[0] == s.input_slots[0]


def test_zero_size_output_is_an_alloc_step():
    e = np.zeros((0, 4), np.float32)
    s = _run(lambda x: x * 2, e)
    assert [step.kind for step in s.steps] == ["alloc"]


def test_reductions_over_empty_axes_give_identities():
    e = np.zeros((3, 0), np.float32)
    _run(lambda x: (lax.reduce_sum(x, (1,)), lax.reduce_max(x, (1,)),
                    lax.reduce_min(x, (1,)), lax.reduce_prod(x, (1,))), e)


@pytest.mark.parametrize("fn", [
    lambda x: lax.pad(x, np.float32(9), ((1, 2, 1), (-1, 0, 0))),
    lambda x: lax.concatenate([x, x * 2, x[:, :1]], 1),
    lambda x: lax.rev(x, (0, 1)) - x,
    lambda x: lax.reshape(x, (4, 3), dimensions=(1, 0)),
    lambda x: lax.squeeze(lax.reshape(x, (1, 3, 4)), (0,)),
    lambda x: lax.broadcasted_iota(np.int32, (3, 4), 1) + lax.convert_element_type(x, np.int32),
    lambda x: lax.argmax(x, 1, np.int32),
    lambda x: lax.select_n(x > 0, x, -x),
    lambda x: lax.integer_pow(x, -3),
])
def test_layout_and_select_rules(fn):
    _run(fn, X)


def test_names_are_deterministic():
    names = passes.Names()
    assert [names.fresh("i"), names.fresh("i"), names.fresh("r")] == ["i0", "i1", "r0"]
