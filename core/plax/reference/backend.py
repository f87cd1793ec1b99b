"""The reference backend: buffers are read-only numpy arrays and executables
interpret the jaxpr with the numpy reference rules."""

from __future__ import annotations

import platform

import numpy as np

from plax.backend import Backend, Capabilities, Device, Executable
from plax.interpreters.reference import eval_closed_jaxpr


class ReferenceExecutable(Executable):
    def __init__(self, closed_jaxpr):
        self.closed_jaxpr = closed_jaxpr
        self.in_avals = closed_jaxpr.in_avals
        self.out_avals = closed_jaxpr.out_avals

    def execute(self, buffers):
        return [_freeze(o) for o in eval_closed_jaxpr(self.closed_jaxpr, buffers)]

    def as_text(self) -> str:
        return str(self.closed_jaxpr)


def _freeze(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.flags.writeable:
        array.flags.writeable = False
    return array


class ReferenceBackend(Backend):
    name = "reference"
    platform = "cpu"

    def __init__(self):
        description = f"numpy {np.__version__} on {platform.machine()}"
        self._devices = [Device(self.name, 0, "cpu", description)]

    def devices(self) -> list[Device]:
        return list(self._devices)

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def buffer_from_numpy(self, array: np.ndarray, device: Device):
        return _freeze(np.array(array, copy=True))

    def buffer_to_numpy(self, buffer) -> np.ndarray:
        return buffer

    def compile(self, closed_jaxpr, device: Device) -> Executable:
        return ReferenceExecutable(closed_jaxpr)

    def info(self) -> dict:
        return {"numpy": np.__version__}
