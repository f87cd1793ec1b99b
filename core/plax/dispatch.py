"""Eager execution: each primitive outside a transformation runs on a backend
through a cached single-primitive executable.

The cache key is (device, primitive, params, input avals), so the second
``x + y`` on arrays of the same type costs a dict lookup and one execute.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from plax import core
from plax.abstract import ShapedArray, aval_of_constant, check_python_int_range
from plax.array import Array
from plax.backend.interface import Device
from plax.backend.registry import get_backend
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Var

# Primitives that execute eagerly in their own way (jit runs its whole jaxpr).
eager_rules: dict[core.Primitive, Callable] = {}

_single_op_cache: dict = {}
_program_cache: dict = {}


def clear_caches() -> None:
    _single_op_cache.clear()
    _program_cache.clear()


_default_devices: dict = {}


def default_device() -> Device:
    backend = get_backend()
    device = _default_devices.get(backend)
    if device is None:
        device = _default_devices[backend] = backend.devices()[0]
    return device


def device_put(x, device: Device | None = None) -> Array:
    """Place a value (Array, numpy array, Python scalar) on a device.

    With an explicit device the result is committed to it; without one, an Array
    stays where it is and other values go, uncommitted, to the default device.
    """
    committed = device is not None
    if device is None:
        if isinstance(x, Array):
            return x
        device = default_device()
    if isinstance(x, Array):
        if x.device == device:
            return x if x.committed or not committed else _with_commitment(x, True)
        host = np.asarray(x)
        return Array(device.backend.buffer_from_numpy(host, device), x.aval, device, committed)
    if isinstance(x, core.Tracer):
        raise TypeError(f"device_put of a traced value {x!r}; it is already on its way")
    aval = aval_of_constant(x)
    if isinstance(x, int) and not isinstance(x, bool):
        check_python_int_range(x, aval.dtype)
    host = np.asarray(x, dtype=aval.dtype)
    return Array(device.backend.buffer_from_numpy(host, device), aval, device, committed)


def _with_commitment(x: Array, committed: bool) -> Array:
    return Array(x._buffer, x.aval, x.device, committed)


def placement_of(args) -> tuple[Device, bool]:
    """Where an operation on ``args`` runs: the device of its committed arrays, else
    of its first array, else the default. Returns (device, committed)."""
    committed_device = None
    first = None
    for x in args:
        if not isinstance(x, Array):
            continue
        if first is None:
            first = x.device
        if x.committed:
            if committed_device is None:
                committed_device = x.device
            elif x.device != committed_device:
                raise ValueError(
                    f"arguments are committed to different devices ({committed_device} and "
                    f"{x.device}); move them to one device first with "
                    "plax.device_put(x, device)"
                )
    if committed_device is not None:
        return committed_device, True
    return (first if first is not None else default_device()), False


def to_arrays(args, device: Device) -> list[Array]:
    """The arguments as Arrays on ``device`` (uncommitted ones are moved there)."""
    out = []
    for x in args:
        if isinstance(x, Array) and x.device == device:
            out.append(x)
        elif isinstance(x, Array):
            host = np.asarray(x)
            out.append(Array(device.backend.buffer_from_numpy(host, device), x.aval, device))
        else:
            out.append(device_put(x, device))
    return out


def _params_key(params: dict):
    return tuple(sorted(params.items()))


def apply_primitive(primitive: core.Primitive, args, params) -> list[Array]:
    rule = eager_rules.get(primitive)
    if rule is not None:
        return rule(*args, **params)
    device, committed = placement_of(args)
    arrays = to_arrays(args, device)
    in_avals = tuple(a.aval for a in arrays)
    key = (device, primitive, _params_key(params), in_avals)
    executable = _single_op_cache.get(key)
    if executable is None:
        closed = single_primitive_jaxpr(primitive, params, in_avals)
        executable = device.backend.compile(closed, device)
        _single_op_cache[key] = executable
    return execute(executable, arrays, device, committed)


def single_primitive_jaxpr(primitive, params, in_avals: tuple[ShapedArray, ...]) -> ClosedJaxpr:
    out_avals = primitive.abstract_eval(*in_avals, **params)
    invars = [Var(a) for a in in_avals]
    outvars = [Var(a) for a in out_avals]
    eqn = JaxprEqn(primitive, tuple(invars), params, tuple(outvars))
    return ClosedJaxpr(Jaxpr([], invars, outvars, [eqn]), [])


def execute(executable, arrays: list[Array], device: Device, committed: bool = False):
    buffers = executable.execute([a._buffer for a in arrays])
    return [Array(b, aval, device, committed) for b, aval in zip(buffers, executable.out_avals)]


def compile_program(closed: ClosedJaxpr, device: Device):
    """Compile a whole jaxpr (jit) for a device, once per (jaxpr, device)."""
    key = (closed, device)
    executable = _program_cache.get(key)
    if executable is None:
        host_consts = [np.asarray(c) for c in closed.consts]
        executable = device.backend.compile(ClosedJaxpr(closed.jaxpr, host_consts), device)
        _program_cache[key] = executable
    return executable


core.set_eval_handler(apply_primitive)
