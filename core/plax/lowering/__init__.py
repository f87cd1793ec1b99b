"""The lowering toolkit: backend-neutral machinery that turns a jaxpr into
kernels a backend compiles.

* ``kernel_ir``: the small kernel IR (buffers, index arithmetic, loads, stores,
  ALU ops named after lax primitives, reductions, loop nests).
* ``index``: simplifying index arithmetic (reshape/transpose/slice/pad folding).
* ``rules``: how each fusible primitive becomes an expression.
* ``fusion``: jaxpr -> ``Schedule`` of kernels, host steps and library steps.
* ``passes``: reduction lowering, loop merging, work estimates.
* ``schedule``: the schedule data structures.
* ``interpreter``: a numpy interpreter defining the IR's semantics.
* ``disk_cache``: an atomic, checksummed on-disk cache for compiled code.
* ``dump``: ``PLAX_DUMP=dir`` writes jaxprs, schedules and backend code.

A backend calls ``plan(closed_jaxpr, Target(...))`` and renders each
``KernelStep``'s kernel (the ``cpu_llvm`` backend is the worked example).
``c_renderer`` (imported on demand) renders kernels as C-like source.
"""

from plax.lowering import (
    disk_cache,
    dump,
    fusion,
    index,
    interpreter,
    kernel_ir,
    passes,
    rules,
    schedule,
)
from plax.lowering.fusion import Target, plan
from plax.lowering.schedule import AllocStep, HostStep, KernelStep, LibraryStep, Schedule

__all__ = [
    "AllocStep",
    "HostStep",
    "KernelStep",
    "LibraryStep",
    "Schedule",
    "Target",
    "disk_cache",
    "dump",
    "fusion",
    "index",
    "interpreter",
    "kernel_ir",
    "passes",
    "plan",
    "rules",
    "schedule",
]
