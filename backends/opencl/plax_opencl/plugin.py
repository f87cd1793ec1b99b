"""Entry point of the ``opencl`` backend (``plax.backends: opencl``).

Imports nothing heavy: pyopencl is loaded by the availability probe and by the
loader, never when plax discovers plugins. The probe reports why the backend is
unavailable (no pyopencl, no platform, an ICD that fails to load, no device, a
``PLAX_OPENCL_DEVICE`` that matches nothing) instead of raising.
"""

from __future__ import annotations

from plax.backend import BackendSpec, hookimpl

# Below cpu_llvm (100), above the reference backend (0): on a machine with a GPU
# driver, select it with PLAX_BACKEND=opencl.
PRIORITY = 50


def _load():
    from plax_opencl.backend import OpenCLBackend

    return OpenCLBackend()


def _probe() -> tuple[bool, str]:
    from plax_opencl import devices

    return devices.probe()


@hookimpl
def plax_backends():
    return [BackendSpec("opencl", priority=PRIORITY, load=_load, is_available=_probe)]
