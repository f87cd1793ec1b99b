"""Loops inside one native call: a frame layout for ``while`` and ``scan``.

A host loop around compiled bodies costs a dispatch per iteration. A backend
that can run a whole loop in one call (a CPU running a driver function, a GPU
kernel with a loop inside) needs to know, ahead of the call, where every buffer
of the condition and body schedules lives and how the carry moves from one
iteration to the next. ``plan_while`` and ``plan_scan`` answer that with a
``LoopPlan``, which is backend-neutral: the backend renders the driver and
fills the frame.

The **frame** is an array of buffer pointers. Each sub-schedule owns a range of
entries, one per slot (``ProgramLayout.entry(slot)``); the steps of the driver
read their operands' pointers from the frame at run time, so moving the carry
is a matter of rewriting entries, not copying data:

* Each carry has a *current* entry. Before a program runs, the current pointers
  are written into the program's input entries.
* After the body, a carry whose new value is a buffer the body produced itself
  (``fresh``) swaps pointers with the current entry: the old carry buffer
  becomes the body's output buffer for the next iteration. No copy.
* A carry whose new value is an input, a constant, or a buffer another carry
  also takes is first copied into the carry's own *temp* buffer (all reads
  before any swap, so permuted carries stay right), then swapped with it.
* A carry returned unchanged (``same``) is left alone.
* Scan: each iteration points the body's ``x`` entries at row ``i`` of the
  stacked inputs and copies the body's ``y`` outputs into row ``i`` of the
  stacked outputs.

The runtime allocates every entry in ``allocations`` before the call (all
intermediates of both programs, scratch, temps and the carries' own buffers,
which start as copies of the initial carry, so the caller's arrays are never
written), points constants and loop-invariant operands at their arrays, makes
the call, and reads the final carry from the current entries.

``eligible`` says whether a schedule can run inside such a loop at all: every
step must be a kernel, an allocation, or a library step the backend can call
natively (``native_library(step)``), and outputs must be slots (not literals).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plax.abstract import ShapedArray
from plax.lowering.schedule import AllocStep, KernelStep, LibraryStep, Schedule

__all__ = ["ProgramLayout", "Carry", "Stacked", "LoopPlan", "eligible", "plan_while",
           "plan_scan"]


@dataclass
class ProgramLayout:
    """Where a schedule's slots and scratch buffers live in the frame."""

    schedule: Schedule
    base: int
    scratch: dict  # step index -> tuple of frame entries, one per scratch buffer

    def entry(self, slot: int) -> int:
        return self.base + slot

    @property
    def intermediates(self) -> list[int]:
        """Slots written by the program's own steps."""
        return [slot for step in self.schedule.steps for slot in step.outputs]


@dataclass
class Carry:
    current: int  # frame entry of the carry's current buffer
    body_in: int  # the body's input entry
    body_out: int  # the body's output entry
    cond_in: int | None  # the condition's input entry (while only)
    mode: str  # "fresh" (swap), "copy" (copy into temp, then swap) or "same"
    temp: int | None  # frame entry of the temp buffer (mode "copy")
    nbytes: int


@dataclass
class Stacked:
    """A scan input or output: row ``i`` of the stacked array at ``entry``
    corresponds to the body's entry ``body``."""

    entry: int
    body: int
    row_bytes: int


@dataclass
class LoopPlan:
    kind: str  # "while" or "scan"
    frame_size: int
    body: ProgramLayout
    cond: ProgramLayout | None
    carries: list
    consts: list  # [(frame entry, numpy value)]: the sub-schedules' constants
    invariants: list  # per loop-invariant operand: the frame entries it fills
    allocations: list  # [(frame entry, ShapedArray)]
    pred_entry: int | None = None  # while: the condition's output entry
    xs: list = field(default_factory=list)  # scan
    ys: list = field(default_factory=list)  # scan
    length: int = 0
    reverse: bool = False

    def programs(self):
        """(name, ProgramLayout) of the body, then of the condition when there is one."""
        yield "body", self.body
        if self.cond is not None:
            yield "cond", self.cond

    def description(self) -> str:
        """Everything about the plan that shapes generated code (a cache key)."""
        carries = ";".join(f"{c.current},{c.body_in},{c.body_out},{c.cond_in},{c.mode},"
                           f"{c.temp},{c.nbytes}" for c in self.carries)
        stacked = ";".join(f"{s.entry},{s.body},{s.row_bytes}" for s in self.xs + self.ys)
        return (f"{self.kind} frame={self.frame_size} body@{self.body.base} "
                f"cond@{None if self.cond is None else self.cond.base} pred={self.pred_entry} "
                f"length={self.length} reverse={self.reverse} carries=[{carries}] "
                f"stacked=[{stacked}] nxs={len(self.xs)}")


def eligible(schedule: Schedule, native_library=lambda step: False) -> bool:
    for step in schedule.steps:
        if isinstance(step, (KernelStep, AllocStep)):
            continue
        if isinstance(step, LibraryStep) and native_library(step):
            continue
        return False
    return all(isinstance(o, int) for o in schedule.outputs)


class _Frame:
    def __init__(self):
        self.size = 0
        self.allocations: list = []
        self.consts: list = []

    def take(self, count: int) -> int:
        base = self.size
        self.size += count
        return base

    def buffer(self, aval) -> int:
        entry = self.take(1)
        self.allocations.append((entry, aval))
        return entry

    def program(self, schedule: Schedule) -> ProgramLayout:
        base = self.take(schedule.num_slots)
        scratch = {}
        for n, step in enumerate(schedule.steps):
            for slot, aval in zip(step.outputs, step.out_avals):
                self.allocations.append((base + slot, aval))
            if isinstance(step, KernelStep) and step.scratch:
                scratch[n] = tuple(self.buffer(ShapedArray((size,), np.dtype(dt)))
                                   for dt, size in step.scratch)
        for slot, value in schedule.consts:
            self.consts.append((base + slot, value))
        return ProgramLayout(schedule, base, scratch)


def _nbytes(aval) -> int:
    return int(np.prod(aval.shape, dtype=np.int64)) * np.dtype(aval.dtype).itemsize


def _carries(frame: _Frame, body: ProgramLayout, carry_avals, body_in_slots, body_out_slots,
             cond_in_slots):
    produced = set(body.intermediates)
    taken = set()
    carries = []
    for k, aval in enumerate(carry_avals):
        src, dst = body_out_slots[k], body_in_slots[k]
        if src == dst:
            mode = "same"
        elif src in produced and src not in taken:
            mode = "fresh"
            taken.add(src)
        else:
            mode = "copy"
        carries.append(Carry(
            current=frame.buffer(aval),
            body_in=body.entry(dst),
            body_out=body.entry(src),
            cond_in=None if cond_in_slots is None else cond_in_slots[k],
            mode=mode,
            temp=frame.buffer(aval) if mode == "copy" else None,
            nbytes=_nbytes(aval),
        ))
    return carries


def plan_while(cond: Schedule, body: Schedule, cond_nconsts: int, body_nconsts: int,
               carry_avals) -> LoopPlan:
    """Operands of ``while``: cond consts, body consts, then the carry."""
    frame = _Frame()
    body_layout = frame.program(body)
    cond_layout = frame.program(cond)
    ncarry = len(carry_avals)
    cond_in = [cond_layout.entry(s) for s in cond.input_slots[cond_nconsts:]]
    carries = _carries(frame, body_layout, carry_avals, body.input_slots[body_nconsts:],
                       body.outputs[:ncarry], cond_in)
    invariants = [(cond_layout.entry(s),) for s in cond.input_slots[:cond_nconsts]]
    invariants += [(body_layout.entry(s),) for s in body.input_slots[:body_nconsts]]
    return LoopPlan("while", frame.size, body_layout, cond_layout, carries, frame.consts,
                    invariants, frame.allocations, pred_entry=cond_layout.entry(cond.outputs[0]))


def plan_scan(body: Schedule, num_consts: int, num_carry: int, carry_avals, x_avals, y_avals,
              length: int, reverse: bool) -> LoopPlan:
    """Operands of ``scan``: consts, the carry, then the stacked xs."""
    frame = _Frame()
    body_layout = frame.program(body)
    carries = _carries(frame, body_layout, carry_avals,
                       body.input_slots[num_consts:num_consts + num_carry],
                       body.outputs[:num_carry], None)
    invariants = [(body_layout.entry(s),) for s in body.input_slots[:num_consts]]
    x_slots = body.input_slots[num_consts + num_carry:]
    xs = [Stacked(frame.take(1), body_layout.entry(s), _nbytes(a))
          for s, a in zip(x_slots, x_avals)]
    ys = [Stacked(frame.take(1), body_layout.entry(s), _nbytes(a))
          for s, a in zip(body.outputs[num_carry:], y_avals)]
    return LoopPlan("scan", frame.size, body_layout, None, carries, frame.consts, invariants,
                    frame.allocations, xs=xs, ys=ys, length=length, reverse=reverse)
