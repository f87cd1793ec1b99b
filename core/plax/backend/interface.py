"""What a backend implements: devices, buffers, compile and execute.

The core hands a backend a ``ClosedJaxpr`` whose consts are numpy arrays and
gets back an ``Executable``. Buffers are opaque to the core: whatever the
backend returns from ``buffer_from_numpy`` it gets back in ``execute``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from plax import dtypes


@dataclass(frozen=True)
class Capabilities:
    """What a backend computes correctly. Conformance skips the rest with a reason."""

    dtypes: frozenset = frozenset(dtypes.ALL)
    max_buffer_bytes: int | None = None
    notes: tuple = ()  # free-form (key, value) facts shown in reports

    def supports_dtype(self, dt) -> bool:
        return np.dtype(dt) in self.dtypes

    @property
    def float64(self) -> bool:
        return dtypes.float64 in self.dtypes

    def to_manifest(self) -> dict:
        """The machine-readable manifest conformance reads."""
        return {
            "dtypes": sorted(np.dtype(d).name for d in self.dtypes),
            "float64": self.float64,
            "max_buffer_bytes": self.max_buffer_bytes,
            "notes": dict(self.notes),
        }


class Device:
    """One device of a backend. ``plax.devices()`` lists them.

    Two devices are equal when they have the same backend name and id. A backend
    should create its devices once and return the same objects every time.
    """

    __slots__ = ("backend_name", "id", "kind", "description", "_hash", "_backend")

    def __init__(self, backend_name: str, id: int, kind: str = "cpu", description: str = ""):
        self.backend_name = backend_name
        self.id = id
        self.kind = kind
        self.description = description
        self._hash = hash((backend_name, id))  # devices key every executable cache
        self._backend = None

    def __eq__(self, other) -> bool:
        return self is other or (
            isinstance(other, Device)
            and self.backend_name == other.backend_name
            and self.id == other.id
        )

    def __hash__(self) -> int:
        return self._hash

    @property
    def platform(self) -> str:
        return self.backend_name

    def __repr__(self) -> str:
        return f"{self.kind.capitalize()}Device(id={self.id}, backend={self.backend_name!r})"

    @property
    def backend(self) -> "Backend":
        backend = self._backend
        if backend is None:
            from plax.backend.registry import get_backend

            backend = self._backend = get_backend(self.backend_name)
        return backend


class Executable:
    """A compiled program. ``execute`` takes and returns the backend's buffers."""

    in_avals: Sequence
    out_avals: Sequence

    def execute(self, buffers: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def as_text(self) -> str:
        """What the backend produced (IR, source), for ``jit(f).lower(x).compile()``."""
        return ""


class Backend:
    """Base class for backends. Subclasses set ``name`` and implement the methods."""

    name: str = "?"
    platform: str = "cpu"

    def devices(self) -> list[Device]:
        return [Device(self.name, 0, self.platform)]

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def buffer_from_numpy(self, array: np.ndarray, device: Device) -> Any:
        raise NotImplementedError

    def buffer_to_numpy(self, buffer: Any) -> np.ndarray:
        raise NotImplementedError

    def block_until_ready(self, buffer: Any) -> None:
        """Wait until ``buffer`` is computed (backends that run asynchronously)."""

    def compile(self, closed_jaxpr, device: Device) -> Executable:
        raise NotImplementedError

    def info(self) -> dict:
        """Versions and driver facts shown by ``plax info`` and conformance reports."""
        return {}


@dataclass
class BackendSpec:
    """A backend a plugin offers. ``load()`` builds the Backend (heavy imports go
    there); ``is_available()`` returns ``(ok, reason)`` and must not raise."""

    name: str
    priority: int
    load: Callable[[], Backend]
    is_available: Callable[[], tuple[bool, str]] = field(default=lambda: (True, ""))
    package: str = ""
    version: str = ""
