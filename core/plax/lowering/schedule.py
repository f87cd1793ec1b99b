"""A schedule: what ``plax.lowering.fusion.plan`` makes of a jaxpr.

Values live in numbered *slots*. The program's inputs fill the first slots, its
constants the next; every step reads slots and fills others, and ``frees[i]``
lists the slots no step after step ``i`` reads (a runtime drops them there, so
intermediates die as early as possible). Steps are:

``KernelStep``
    Run a ``Kernel``: its ``in`` buffers are ``inputs`` (slots), its ``out``
    buffers are freshly allocated and stored into ``outputs``; ``scratch`` lists
    (dtype, size) of its scratch buffers.
``HostStep``
    Run a primitive with its reference (numpy) implementation,
    ``plax.interpreters.reference.apply``. Inputs are slots or ``Literal``s. A
    backend whose buffers are not numpy arrays copies them to the host and back.
``LibraryStep``
    A primitive the backend said it runs itself (``dot_general`` through BLAS,
    say); same fields as a host step.
``AllocStep``
    An output with no elements: allocate it, nothing to compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plax.jaxpr import Literal
from plax.lowering.kernel_ir import Kernel, kernel_text

__all__ = ["KernelStep", "HostStep", "LibraryStep", "AllocStep", "Schedule"]


@dataclass
class KernelStep:
    kernel: Kernel
    inputs: tuple
    outputs: tuple
    out_avals: tuple
    scratch: tuple = ()  # ((dtype, size), ...)
    work: int = 0  # estimated element-operations, for threading decisions
    note: str = ""  # the primitives it fuses, for dumps

    kind = "kernel"


@dataclass
class HostStep:
    primitive: object
    params: dict
    inputs: tuple  # slot numbers or Literals
    outputs: tuple
    out_avals: tuple

    kind = "host"


@dataclass
class LibraryStep:
    primitive: object
    params: dict
    inputs: tuple
    outputs: tuple
    out_avals: tuple

    kind = "library"


@dataclass
class AllocStep:
    outputs: tuple
    out_avals: tuple

    kind = "alloc"


@dataclass
class Schedule:
    num_slots: int
    input_slots: tuple
    consts: list  # [(slot, numpy value)]
    outputs: tuple  # slot numbers or Literals
    out_avals: tuple
    steps: list = field(default_factory=list)
    frees: list = field(default_factory=list)  # per step: slots dead after it
    slot_avals: dict = field(default_factory=dict)

    @property
    def kernels(self) -> list[Kernel]:
        return [s.kernel for s in self.steps if isinstance(s, KernelStep)]

    def counts(self) -> dict:
        out = {"kernel": 0, "host": 0, "library": 0, "alloc": 0}
        for step in self.steps:
            out[step.kind] += 1
        return out

    def text(self) -> str:
        """A readable listing (what ``PLAX_DUMP`` writes)."""
        lines = [f"inputs: {_slots(self.input_slots)}"]
        for slot, value in self.consts:
            lines.append(f"const %{slot}: {np.asarray(value).dtype.name}{list(np.shape(value))}")
        for i, step in enumerate(self.steps):
            outs = _slots(step.outputs)
            if isinstance(step, KernelStep):
                lines.append(
                    f"[{i}] kernel {step.kernel.name} ({step.note}) {_slots(step.inputs)} "
                    f"-> {outs}"
                )
                lines.extend("    " + line for line in kernel_text(step.kernel).splitlines())
            elif isinstance(step, AllocStep):
                lines.append(f"[{i}] alloc -> {outs}")
            else:
                lines.append(
                    f"[{i}] {step.kind} {step.primitive} {_slots(step.inputs)} -> {outs}"
                )
            if self.frees and self.frees[i]:
                lines.append(f"    free {_slots(self.frees[i])}")
        lines.append(f"outputs: {_slots(self.outputs)}")
        return "\n".join(lines)


def _slots(items) -> str:
    parts = []
    for item in items:
        if isinstance(item, Literal):
            parts.append(repr(item.val.item()))
        else:
            parts.append(f"%{item}")
    return "(" + ", ".join(parts) + ")"
