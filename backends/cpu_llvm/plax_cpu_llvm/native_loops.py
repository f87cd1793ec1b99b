"""``while`` and ``scan`` in one native call.

The toolkit's ``plax.lowering.loops`` lays the condition and body schedules out
in a *frame* of buffer pointers; this module renders that plan as one LLVM
function, ``void driver(ptr frame, i64, i64)``, which runs the whole loop: each
iteration calls the body's kernels (their core functions are emitted into the
driver's module and inlined), calls BLAS for ``dot_general`` steps, and moves
the carry by swapping frame entries. Python runs once per loop: it allocates
the frame's buffers, makes one ctypes call (the GIL is released), and reads
the final carry back.

A loop runs natively when every step of its sub-schedules is a kernel, an
allocation or a BLAS-able ``dot_general``, and no kernel is big enough to want
the thread pool (the driver runs on the calling thread); otherwise the
enclosing library step keeps its Python loop (``library.py``).

BLAS is numpy's own OpenBLAS (``blas.py``); its symbols reach the JIT through the
compiler's import table, so the generated code holds no addresses and caches on
disk like any kernel.
"""

from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir

from plax.lowering import loops
from plax.lowering.schedule import KernelStep, LibraryStep

from plax_cpu_llvm import blas
from plax_cpu_llvm.runtime import contiguous
from plax_cpu_llvm.llvm_types import F32, F64, I1, I8, I32, I64, PTR, VOID

__all__ = ["NativeLoop", "native_while", "native_scan", "STATS"]

# How many loop steps were compiled natively and how many kept a Python loop.
STATS = {"native": 0, "python": 0}

_GEMM = {np.dtype(np.float32): ("sgemm", F32), np.dtype(np.float64): ("dgemm", F64)}


# -- the driver ------------------------------------------------------------------
class NativeLoop:
    """A loop plan plus the kernels and GEMMs of its programs, compiled as one
    function. ``text()`` is its cache key."""

    def __init__(self, plan: loops.LoopPlan, gemms: dict, blas_bits: int):
        self.plan = plan
        self.gemms = gemms  # (program name, step index) -> (dtype, batch, m, n, k, ta, tb)
        self.blas_bits = blas_bits
        self._text = None

    def text(self) -> str:
        if self._text is None:
            parts = [f"native-loop blas={self.blas_bits}", self.plan.description()]
            for name, layout in self.plan.programs():
                for n, step in enumerate(layout.schedule.steps):
                    ins = ",".join(str(layout.entry(s)) for s in getattr(step, "inputs", ()))
                    outs = ",".join(str(layout.entry(s)) for s in step.outputs)
                    head = f"{name}[{n}] {step.kind} ({ins}) -> ({outs})"
                    if isinstance(step, KernelStep):
                        parts.append(f"{head} scratch={layout.scratch.get(n, ())}\n"
                                     f"{step.kernel.text()}")
                    elif isinstance(step, LibraryStep):
                        parts.append(f"{head} gemm={self.gemms[(name, n)]}")
                    else:
                        parts.append(head)
            self._text = "\n".join(parts)
        return self._text

    # -- emission ---------------------------------------------------------------------
    def emit(self, mb, symbol: str) -> None:
        fn = ir.Function(mb.module, ir.FunctionType(VOID, [PTR, I64, I64]), name=symbol)
        self.mb = mb
        self.fn = fn
        self.frame = fn.args[0]
        self.cores = {}
        for name, layout in self.plan.programs():
            for n, step in enumerate(layout.schedule.steps):
                if isinstance(step, KernelStep):
                    self.cores[(name, n)] = mb.add_core(step.kernel, f"{symbol}.{name}{n}")
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))
        if self.plan.kind == "while":
            self._emit_while()
        else:
            self._emit_scan()
        self.b.ret_void()

    def _slot(self, entry: int):
        return self.b.gep(self.frame, [ir.Constant(I64, entry)], inbounds=True,
                          source_etype=PTR)

    def _get(self, entry: int):
        return self.b.load(self._slot(entry), typ=PTR, align=8)

    def _set(self, entry: int, value) -> None:
        self.b.store(value, self._slot(entry), align=8)

    def _memcpy(self, dst, src, nbytes: int) -> None:
        if nbytes:
            memcpy = self.mb.intrinsic("llvm.memcpy.p0.p0.i64", VOID, [PTR, PTR, I64, I1])
            self.b.call(memcpy, [dst, src, ir.Constant(I64, nbytes), ir.Constant(I1, 0)])

    def _run(self, name: str, layout: loops.ProgramLayout) -> None:
        for n, step in enumerate(layout.schedule.steps):
            if isinstance(step, KernelStep):
                args = [self._get(layout.entry(s)) for s in step.inputs + step.outputs]
                args += [self._get(e) for e in layout.scratch.get(n, ())]
                extent = step.kernel.parallel_extent
                hi = 1 if extent is None else extent
                self.b.call(self.cores[(name, n)], args + [ir.Constant(I64, 0),
                                                           ir.Constant(I64, hi)])
            elif isinstance(step, LibraryStep):
                self._gemm(self.gemms[(name, n)], layout, step)

    def _gemm(self, gemm, layout, step) -> None:
        dt, batch, m, n, k, ta, tb = gemm
        routine, fty = _GEMM[np.dtype(dt)]
        it = ir.IntType(self.blas_bits)
        sig = ir.FunctionType(VOID, [I32, I32, I32, it, it, it, fty, PTR, it, PTR, it, fty,
                                     PTR, it])
        callee = self.mb.module.globals.get(f"plax.blas.{routine}")
        if callee is None:
            callee = ir.Function(self.mb.module, sig, name=f"plax.blas.{routine}")
        b = self.b
        lhs, rhs = (self._get(layout.entry(s)) for s in step.inputs)
        out = self._get(layout.entry(step.outputs[0]))
        size = np.dtype(dt).itemsize
        const = lambda v: ir.Constant(it, v)
        lda = m if ta else k
        ldb = k if tb else n
        for i in range(batch):  # batch counts are small inside loop bodies
            a = b.gep(lhs, [ir.Constant(I64, i * m * k * size)], source_etype=I8)
            c = b.gep(rhs, [ir.Constant(I64, i * k * n * size)], source_etype=I8)
            o = b.gep(out, [ir.Constant(I64, i * m * n * size)], source_etype=I8)
            b.call(callee, [ir.Constant(I32, blas.ROW_MAJOR),
                            ir.Constant(I32, blas.TRANS if ta else blas.NO_TRANS),
                            ir.Constant(I32, blas.TRANS if tb else blas.NO_TRANS),
                            const(m), const(n), const(k), ir.Constant(fty, 1.0), a,
                            const(max(lda, 1)), c, const(max(ldb, 1)), ir.Constant(fty, 0.0),
                            o, const(max(n, 1))])

    def _feed_carry(self, attr: str) -> None:
        for c in self.plan.carries:
            self._set(getattr(c, attr), self._get(c.current))

    def _move_carry(self) -> None:
        # All reads before any swap: a carry may take another carry's input.
        for c in self.plan.carries:
            if c.mode == "copy":
                self._memcpy(self._get(c.temp), self._get(c.body_out), c.nbytes)
        for c in self.plan.carries:
            if c.mode == "same":
                continue
            other = c.body_out if c.mode == "fresh" else c.temp
            old, new = self._get(c.current), self._get(other)
            self._set(c.current, new)
            self._set(other, old)

    def _emit_while(self) -> None:
        b = self.b
        head = self.fn.append_basic_block("loop.head")
        body = self.fn.append_basic_block("loop.body")
        done = self.fn.append_basic_block("loop.exit")
        b.branch(head)
        b.position_at_end(head)
        self._feed_carry("cond_in")
        self._run("cond", self.plan.cond)
        pred = b.load(self._get(self.plan.pred_entry), typ=I8, align=1)
        b.cbranch(b.icmp_unsigned("!=", pred, ir.Constant(I8, 0)), body, done)
        b.position_at_end(body)
        self._feed_carry("body_in")
        self._run("body", self.plan.body)
        self._move_carry()
        b.branch(head)
        b.position_at_end(done)

    def _emit_scan(self) -> None:
        plan = self.plan
        b = self.b
        pre = b.block
        head = self.fn.append_basic_block("loop.head")
        body = self.fn.append_basic_block("loop.body")
        done = self.fn.append_basic_block("loop.exit")
        b.branch(head)
        b.position_at_end(head)
        t = b.phi(I64, name="t")
        t.add_incoming(ir.Constant(I64, 0), pre)
        b.cbranch(b.icmp_signed("<", t, ir.Constant(I64, plan.length)), body, done)
        b.position_at_end(body)
        i = b.sub(ir.Constant(I64, plan.length - 1), t) if plan.reverse else t
        for x in plan.xs:
            offset = b.mul(i, ir.Constant(I64, x.row_bytes))
            self._set(x.body, b.gep(self._get(x.entry), [offset], source_etype=I8))
        self._feed_carry("body_in")
        self._run("body", plan.body)
        for y in plan.ys:
            offset = b.mul(i, ir.Constant(I64, y.row_bytes))
            row = b.gep(self._get(y.entry), [offset], source_etype=I8)
            self._memcpy(row, self._get(y.body), y.row_bytes)
        self._move_carry()
        t.add_incoming(b.add(t, ir.Constant(I64, 1)), b.block)
        b.branch(head)
        b.position_at_end(done)


# -- eligibility and the Python side ---------------------------------------------
def _gemms(layouts, parallel_work: int, threads: int):
    """The GEMM of every library step, or None when a program cannot run natively."""
    symbols, bits = blas.symbols()
    gemms = {}
    for name, layout in layouts:
        schedule = layout.schedule
        for n, step in enumerate(schedule.steps):
            if isinstance(step, KernelStep):
                if threads > 1 and step.work >= parallel_work:
                    return None  # big kernels want the thread pool more than a native loop
            elif isinstance(step, LibraryStep):
                gemm = _dot_gemm(step, schedule, symbols)
                if gemm is None:
                    return None
                gemms[(name, n)] = gemm
    return gemms, bits


def _dot_gemm(step, schedule, symbols):
    if step.primitive.name != "dot_general" or not symbols:
        return None
    (out_aval,) = step.out_avals
    dt = np.dtype(out_aval.dtype)
    if dt not in _GEMM or any(not isinstance(s, int) for s in step.inputs):
        return None
    lhs, rhs = (schedule.slot_avals[s] for s in step.inputs)
    if lhs.dtype != dt or rhs.dtype != dt:
        return None
    layout = blas.gemm_layout(lhs.shape, rhs.shape, step.params["dimension_numbers"])
    if layout is None or 0 in layout[:4]:
        return None
    return (dt.name,) + layout


def _library_ok(step) -> bool:
    return step.primitive.name == "dot_general"


class _Runner:
    """Fills a frame for one call of a native loop and reads the carry back."""

    def __init__(self, plan: loops.LoopPlan, driver):
        self.plan = plan
        self.driver = driver
        self.frame_type = ctypes.c_void_p * plan.frame_size
        self.consts = [(e, contiguous(v)) for e, v in plan.consts]
        self.allocations = [(e, a.shape, np.dtype(a.dtype)) for e, a in plan.allocations]
        self.carry_entries = {c.current for c in plan.carries}

    def __call__(self, invariants, carry, xs=(), ys=()):
        plan = self.plan
        frame = self.frame_type()
        keep = []
        for entry, shape, dt in self.allocations:
            if entry in self.carry_entries:
                continue
            a = np.empty(shape, dt)
            keep.append(a)
            frame[entry] = a.ctypes.data
        for entry, value in self.consts:
            frame[entry] = value.ctypes.data
        for entries, value in zip(plan.invariants, invariants):
            for entry in entries:
                frame[entry] = value.ctypes.data
        for c, value in zip(plan.carries, carry):
            # Carry buffers are written by the loop: never the caller's arrays.
            own = value if c.mode == "same" else np.array(value, copy=True, order="C")
            frame[c.current] = own.ctypes.data
            keep.append(own)
        for s, value in zip(plan.xs, xs):
            frame[s.entry] = value.ctypes.data
        for s, value in zip(plan.ys, ys):
            frame[s.entry] = value.ctypes.data
        self.driver(frame, 0, 1)
        # The final carry is in whichever of our buffers the swaps left current.
        by_address = {a.ctypes.data: a for a in keep if a.nbytes}
        return [by_address[frame[c.current]] if c.nbytes else np.empty(v.shape, v.dtype)
                for c, v in zip(plan.carries, carry)]


def _runner(plan: loops.LoopPlan, backend, parallel_work: int):
    """The compiled driver of ``plan`` behind a ``_Runner``, or None when a program
    cannot run natively (counted in ``STATS`` either way)."""
    found = _gemms(plan.programs(), parallel_work, backend.threads)
    if found is None:
        STATS["python"] += 1
        return None
    (address,) = backend.compiler.compile([NativeLoop(plan, *found)], "loop").values()
    driver = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)(address)
    STATS["native"] += 1
    return _Runner(plan, driver)


def native_while(step, cond, body, backend, parallel_work: int):
    """run(*operands) -> carry for a ``while`` step given the schedules of its condition
    and body, or None to loop in Python."""
    params = step.params
    if not (loops.eligible(cond, _library_ok) and loops.eligible(body, _library_ok)):
        STATS["python"] += 1
        return None
    n_cond, n_body = params["cond_nconsts"], params["body_nconsts"]
    plan = loops.plan_while(cond, body, n_cond, n_body, params["body_jaxpr"].out_avals)
    runner = _runner(plan, backend, parallel_work)
    if runner is None:
        return None
    n_consts = n_cond + n_body

    def run(*args):
        args = [contiguous(a) for a in args]
        return runner(args[:n_consts], args[n_consts:])

    return run


def native_scan(step, body, backend, parallel_work: int):
    """run(*operands) -> carry + ys for a ``scan`` step given its body's schedule, or
    None to loop in Python."""
    params = step.params
    if not loops.eligible(body, _library_ok):
        STATS["python"] += 1
        return None
    num_consts, num_carry = params["num_consts"], params["num_carry"]
    jaxpr = params["jaxpr"]
    y_avals = jaxpr.out_avals[num_carry:]
    length = params["length"]
    plan = loops.plan_scan(body, num_consts, num_carry, jaxpr.out_avals[:num_carry],
                           jaxpr.in_avals[num_consts + num_carry:], y_avals, length,
                           params["reverse"])
    runner = _runner(plan, backend, parallel_work)
    if runner is None:
        return None

    def run(*args):
        args = [contiguous(a) for a in args]
        consts = args[:num_consts]
        carry = args[num_consts:num_consts + num_carry]
        xs = args[num_consts + num_carry:]
        ys = [np.empty((length,) + tuple(a.shape), a.dtype) for a in y_avals]
        return runner(consts, carry, xs, ys) + ys

    return run
