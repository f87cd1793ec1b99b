"""A reference interpreter for schedules and kernel IR, in numpy.

It defines what the IR means: every ALU op is evaluated with the reference
implementation of the lax primitive of the same name, one element at a time.
It is slow and meant for tests and for backend authors checking a renderer
(``interpret_kernel``), and it runs whole schedules (``run_schedule``) with
host and library steps, so a new backend can test its fusion plan before its
code generator exists.
"""

from __future__ import annotations

import numpy as np

from plax.interpreters import reference
from plax.jaxpr import Literal
from plax.lowering.kernel_ir import (
    INDEX,
    Accum,
    Const,
    Expr,
    Kernel,
    Let,
    Load,
    Loop,
    Op,
    Reduce,
    Store,
    Sym,
    Update,
)
from plax.lowering.schedule import AllocStep, KernelStep, LibraryStep, Schedule

__all__ = ["interpret_kernel", "run_schedule", "run_host_step", "alu"]


def _primitives() -> dict:
    return {p.name: p for p in reference.impl_rules}


def alu(op: str, args, dtype, attrs=()) -> np.ndarray:
    """Evaluate one ALU op on numpy values with the lax primitive's reference rule."""
    dtype = np.dtype(dtype)
    prim = _primitives().get(op)
    if prim is None:
        raise NotImplementedError(f"no reference implementation for kernel op {op!r}")
    params = dict(attrs)
    if op == "convert_element_type":
        params = {"new_dtype": dtype, "weak_type": False}
    elif op == "bitcast_convert_type":
        params = {"new_dtype": dtype}
    arrays = [np.asarray(a) for a in args]
    with np.errstate(all="ignore"):
        (out,) = reference.impl_rules[prim](*arrays, **params)
    return np.asarray(out).astype(dtype)


class _Env:
    def __init__(self, buffers: dict):
        self.buffers = buffers
        self.syms: dict = {}


def _eval(e: Expr, env: _Env):
    if isinstance(e, Const):
        return np.asarray(e.value, e.dtype)
    if isinstance(e, Sym):
        return env.syms[e.name]
    if isinstance(e, Load):
        i = int(_eval(e.index, env))
        return np.asarray(env.buffers[e.buffer].reshape(-1)[i])
    if isinstance(e, Op):
        return alu(e.op, [_eval(a, env) for a in e.args], e.dtype, e.attrs)
    if isinstance(e, Reduce):
        raise ValueError("Reduce expressions must be lowered before a kernel runs")
    raise TypeError(f"not a kernel expression: {e!r}")


def _exec(stmts, env: _Env):
    for s in stmts:
        if isinstance(s, Loop):
            for i in range(s.extent):
                env.syms[s.var] = np.asarray(i, INDEX)
                _exec(s.body, env)
        elif isinstance(s, Store):
            i = int(_eval(s.index, env))
            buf = env.buffers[s.buffer]
            buf.reshape(-1)[i] = _eval(s.value, env)
        elif isinstance(s, Let):
            env.syms[s.name] = _eval(s.value, env)
        elif isinstance(s, Accum):
            env.syms[s.name] = np.asarray(_eval(s.init, env), s.dtype)
        elif isinstance(s, Update):
            cur = env.syms[s.name]
            env.syms[s.name] = alu(s.op, [cur, _eval(s.value, env)], cur.dtype)
        else:
            raise TypeError(f"not a kernel statement: {s!r}")


def interpret_kernel(kernel: Kernel, buffers: dict, start: int = 0, end: int | None = None):
    """Run ``kernel`` on numpy ``buffers`` (name -> array; outputs and scratch are
    written in place). ``[start, end)`` restricts the parallel loop."""
    env = _Env(buffers)
    par = kernel.parallel_loop
    if par is None:
        _exec(kernel.body, env)
        return
    stop = par.extent if end is None else end
    for i in range(start, stop):
        env.syms[par.var] = np.asarray(i, INDEX)
        _exec(par.body, env)


def run_host_step(step, args) -> list:
    """A host (or library) step with the reference implementation."""
    return reference.apply(step.primitive, args, step.params, step.out_avals)


def run_schedule(schedule: Schedule, args, run_kernel=None, run_library=None) -> list:
    """Execute a schedule on numpy arrays. ``run_kernel(step, inputs)`` defaults
    to the interpreter; ``run_library(step, inputs)`` to the reference rule."""
    env: list = [None] * schedule.num_slots
    for slot, value in zip(schedule.input_slots, args):
        env[slot] = np.asarray(value)
    for slot, value in schedule.consts:
        env[slot] = np.asarray(value)
    for step, frees in zip(schedule.steps, schedule.frees or [()] * len(schedule.steps)):
        if isinstance(step, KernelStep):
            inputs = [np.array(env[s], order="C") for s in step.inputs]
            if run_kernel is not None:
                outs = run_kernel(step, inputs)
            else:
                outs = _interpret_step(step, inputs)
        elif isinstance(step, AllocStep):
            outs = [np.empty(a.shape, a.dtype) for a in step.out_avals]
        else:
            vals = [s.val if isinstance(s, Literal) else env[s] for s in step.inputs]
            if isinstance(step, LibraryStep) and run_library is not None:
                outs = run_library(step, vals)
            else:
                outs = run_host_step(step, vals)
        for slot, value in zip(step.outputs, outs):
            env[slot] = value
        for slot in frees:
            env[slot] = None
    return [s.val if isinstance(s, Literal) else env[s] for s in schedule.outputs]


def _interpret_step(step: KernelStep, inputs) -> list:
    kernel = step.kernel
    buffers = {}
    ins = iter(inputs)
    outs = []
    scratch = iter(step.scratch)
    for b in kernel.buffers:
        if b.role == "in":
            buffers[b.name] = np.asarray(next(ins))
        elif b.role == "out":
            arr = np.zeros(b.shape, b.dtype)
            buffers[b.name] = arr
            outs.append(arr)
        else:
            dt, size = next(scratch)
            buffers[b.name] = np.zeros(size, dt)
    interpret_kernel(kernel, buffers)
    return outs
