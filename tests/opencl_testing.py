"""What every opencl test module shares: skip without pyopencl or a device, 64-bit types
on (the device's dtypes include them), dtype names, and the device's backend state.

Test modules import ``pytestmark`` and ``x64_on`` from here (pytest finds a fixture by
the name it has in the test module)."""

import numpy as np
import pytest

import plax
from plax import dtypes

pytest.importorskip("pyopencl")
pytest.importorskip("plax_opencl")


def opencl_available() -> bool:
    return any(info.name == "opencl" and info.available for info in plax.backends())


pytestmark = pytest.mark.skipif(not opencl_available(), reason="no OpenCL device")


@pytest.fixture(autouse=True)
def x64_on():
    previous = plax.config.read("enable_x64")
    plax.config.update("enable_x64", True)
    yield
    plax.config.update("enable_x64", previous)


def as_dtype(name):
    return dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


def device_state():
    """The opencl backend's state for its default device (programs, queue, caches)."""
    from plax.backend.registry import get_backend

    backend = get_backend("opencl")
    return backend.state(backend.devices()[0])
