"""Exceptions of the OpenCL backend. Each message names the device."""

from __future__ import annotations

__all__ = ["BufferTooLarge", "DeviceCapabilityError"]


class BufferTooLarge(ValueError):
    """An array larger than the device's largest allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE)."""


class DeviceCapabilityError(TypeError):
    """A dtype the device cannot compute (float64 without cl_khr_fp64, ...)."""
