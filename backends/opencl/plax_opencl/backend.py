"""The ``opencl`` backend: device buffers, kernels rendered to OpenCL C.

Only the public plugin API is used: ``plax.backend`` for the interfaces,
``plax.lowering`` to fuse jaxprs into kernels and render them (the shared C
renderer with the OpenCL dialect), and the reference interpreter, through host
steps, for the primitives kernels do not cover.
"""

from __future__ import annotations

import numpy as np
from plax import dtypes
from plax.backend import Backend, Capabilities, Device, Executable
from plax.jaxpr import Literal
from plax.lowering import dump as plax_dump
from plax.lowering import plan
from plax.lowering.fusion import Target
from plax.lowering.kernel_ir import (
    INDEX,
    Const,
    Kernel,
    Load,
    Loop,
    Op,
    Store,
    Sym,
    walk_exprs,
)
from plax.lowering.passes import stmt_map_exprs
from plax.lowering.schedule import KernelStep

from plax_opencl import devices, library, runtime, siblings
from plax_opencl.columns import parallel_columns
from plax_opencl._version import __version__
from plax_opencl.compiler import ProgramCache
from plax_opencl.dialect import OpenCLRenderer

__all__ = ["OpenCLBackend"]

# Kernels estimated to do fewer element-operations than this read their index
# constants from a parameter array (see plax.lowering.c_renderer): programs that differ
# only in their shapes then share one build. Larger kernels get the constants in their
# source, where the compiler folds them.
LIFT_WORK = 1 << 20

# Programs whose kernels all do fewer element-operations than this are built without
# optimisation on CPU devices (PoCL): compiling them costs more than running them.
QUICK_WORK = 1 << 16

# Partial sums of a large full reduction (the fusion pass splits it in two stages).
PARTIALS = 64


class OpenCLBackend(Backend):
    name = "opencl"
    platform = "opencl"

    def __init__(self):
        import pyopencl as cl

        self.cl = cl
        self.infos = devices.discover()
        self._devices = [
            Device(self.name, k, info.kind, info.description())
            for k, info in enumerate(self.infos)
        ]
        self._states: dict = {}

    # -- devices ----------------------------------------------------------------------------
    def devices(self) -> list[Device]:
        return list(self._devices)

    def state(self, device: Device) -> runtime.DeviceState:
        state = self._states.get(device.id)
        if state is None:
            info = self.infos[device.id]
            state = self._states[device.id] = self._start(info)
        return state

    def _start(self, info) -> runtime.DeviceState:
        cl = self.cl
        context = cl.Context([info.cl_device])
        renderer = OpenCLRenderer(fp64=info.fp64, fp16=info.fp16,
                                  local_size=runtime.local_size_for(info),
                                  cpu=info.kind == "cpu")
        options = []
        if info.correctly_rounded_div_sqrt:
            # Division and sqrt must be correctly rounded, as the reference computes them.
            options.append("-cl-fp32-correctly-rounded-divide-sqrt")
        # CPU drivers generate machine code per __kernel: one dispatching entry per program.
        programs = ProgramCache(cl, context, info, renderer, " ".join(options),
                                dispatch=info.kind == "cpu")
        state = runtime.DeviceState(cl, info, renderer, programs)
        state.sibling_planner = siblings.Planner()
        state.parallel_columns = info.kind != "cpu"
        supported = set(renderer.type_map)
        if not info.int64:
            supported -= {np.dtype(np.int64), np.dtype(np.uint64)}
        state.target = Target(
            supports_op=renderer.supports,
            supports_dtype=lambda dt: dt in supported or dt == INDEX,
            library=library.PRIMITIVES,
            threads=PARTIALS // 2,
            max_partials=PARTIALS,
        )
        return state

    def capabilities(self) -> Capabilities:
        info = self.infos[0]
        excluded = set()
        if not info.fp64:
            excluded.add(dtypes.float64)
        if not info.int64:
            excluded |= {np.dtype(np.int64), np.dtype(np.uint64)}
        notes = [("device", info.label), ("float16", info.float16_mode),
                 ("driver", info.driver_version)]
        if not info.denormals:
            notes.append(("flush_denormals", True))
        return Capabilities(
            dtypes=frozenset(d for d in dtypes.ALL if d not in excluded),
            max_buffer_bytes=info.max_alloc,
            notes=tuple(notes),
        )

    # -- buffers ------------------------------------------------------------------------------
    def buffer_from_numpy(self, array: np.ndarray, device: Device):
        return self.state(device).upload(array)

    def buffer_to_numpy(self, buffer) -> np.ndarray:
        return buffer.to_numpy()

    def block_until_ready(self, buffer) -> None:
        buffer.wait()

    # -- compilation ------------------------------------------------------------------------------
    def compile(self, closed_jaxpr, device: Device) -> Executable:
        state = self.state(device)
        _check_program(state, closed_jaxpr)
        name = "program"
        if plax_dump.enabled():
            plax_dump.dump("jaxpr", name, str(closed_jaxpr))
        schedule = plan(closed_jaxpr, state.target)
        for aval in schedule.slot_avals.values():
            if aval is not None:
                state.check_size(aval.size * aval.dtype.itemsize,
                                 f"a {aval.dtype.name}{list(aval.shape)} value")
        text = schedule.text()
        plax_dump.dump("schedule", name, text)
        kernel_steps = [s for s in schedule.steps if isinstance(s, KernelStep)]
        # The kernels as run: column reductions made parallel (``columns``; not on CPU
        # devices, where one work-item accumulating in memory order is several times
        # faster than work-items walking columns), loop-free kernels in the form of an
        # elementwise one (``_canonical``).
        columns = parallel_columns if state.parallel_columns else _same
        irs = [_canonical(columns(s.kernel)) for s in kernel_steps]
        rendered = [state.renderer.render(ir, lift=s.work < LIFT_WORK,
                                          local_size=state.local_size)
                    for s, ir in zip(kernel_steps, irs)]
        quick = state.programs.dispatch and all(s.work < QUICK_WORK for s in kernel_steps)
        # Siblings only where code generation is cheap (see ``siblings``).
        extras = (lambda: _sibling_renders(state, irs)) if quick else None
        handles = state.programs.kernels(rendered, extras, quick=quick)
        kernels = {}
        sources = []
        for step, ir, r, handle in zip(kernel_steps, irs, rendered, handles):
            params = None
            if r.params:
                params = state.upload(np.asarray(r.params, np.int64)).mem
            kernels[id(step)] = (handle, params, r, ir)
            sources.append(f"// {step.kernel.name}: {step.note}\n{r.source}")
        source_text = "\n".join(sources)
        plax_dump.dump("cl", name, source_text)
        runners = [runtime.make_runner(state, schedule, step, kernels, library.runner)
                   for step in schedule.steps]
        return runtime.CLExecutable(closed_jaxpr, schedule, state, runners,
                                    text + "\n\n" + source_text)

    def info(self) -> dict:
        first = self.infos[0]
        return {
            "pyopencl": self.cl.VERSION_TEXT,
            "plax_opencl": __version__,
            "platform": f"{first.platform_name} ({first.platform_version})",
            "device": first.label,
            "driver": first.driver_version,
            "float16": first.float16_mode,
            "devices": len(self.infos),
        }


def _sibling_renders(state, irs) -> dict:
    """{"siblings": rendered dtype siblings} of the small kernels (see ``siblings``)."""
    out: list = []
    allowed = state.target.dtype_ok
    for ir in irs:
        for kernel in state.sibling_planner.siblings(ir, allowed):
            try:
                rendered = state.renderer.render(kernel, lift=True,
                                                 local_size=state.local_size)
            except Exception:  # noqa: BLE001 -- a sibling is optional; never fail for one
                continue
            out.append(rendered)
    return {"siblings": out}


def _same(kernel: Kernel) -> Kernel:
    return kernel


def _canonical(kernel: Kernel) -> Kernel:
    """A loop-free kernel (a 0-d result) as a parallel loop of one iteration, indexing
    its one-element buffers with the loop variable: its source is then the same as the
    flat elementwise kernel of any size, and one build serves both."""
    if kernel.parallel_loop is not None or any(isinstance(s, Loop) for s in kernel.body):
        return kernel
    var = Sym("i0")
    zero = Const(0, INDEX)
    small = {b.name for b in kernel.buffers if b.size == 1}
    if any(isinstance(e, Sym) and e.name == var.name for e in walk_exprs(kernel.body)):
        return kernel

    def index(e):
        return var if e == zero else e

    def fix_loads(e):
        return _map_small_loads(e, small, index, {})

    body = []
    for s in kernel.body:
        if isinstance(s, Store) and s.buffer in small:
            body.append(Store(s.buffer, index(s.index), fix_loads(s.value)))
        else:
            body.append(stmt_map_exprs(s, fix_loads, lambda e: e))
    return Kernel(kernel.name, kernel.buffers, [Loop(var.name, 1, body, parallel=True)])


def _map_small_loads(e, small, index, memo):
    hit = memo.get(e)
    if hit is not None:
        return hit
    if isinstance(e, Load) and e.buffer in small:
        out = Load(e.buffer, index(e.index), e.dtype)
    else:
        kids = e.children()
        out = e
        if kids:
            new = [_map_small_loads(k, small, index, memo) for k in kids]
            if any(a is not b for a, b in zip(new, kids)):
                out = Op(e.op, new, e.dtype, e.attrs) if isinstance(e, Op) else Load(
                    e.buffer, new[0], e.dtype)
    memo[e] = out
    return out


def _check_program(state: runtime.DeviceState, closed) -> None:
    """Dtypes the device cannot hold, with an error naming the device."""
    jaxpr = closed.jaxpr
    for var in (*jaxpr.constvars, *jaxpr.invars):
        state.check_dtype(var.aval.dtype, f"an input of {var.aval}")
    for eqn in jaxpr.eqns:
        for atom in (*eqn.invars, *eqn.outvars):
            if not isinstance(atom, Literal):
                state.check_dtype(atom.aval.dtype, f"{eqn.primitive.name} on {atom.aval}")
    for atom in jaxpr.outvars:
        state.check_dtype(atom.aval.dtype, f"an output of {atom.aval}")
