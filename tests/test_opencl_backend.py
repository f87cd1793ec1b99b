"""The opencl backend's machinery: discovery and device selection, capabilities,
asynchronous execution, buffers, program caching, and the errors for bad input
(no platform, an ICD that fails, a program the device rejects, a buffer larger
than the device allows, float64 on a device without it)."""

import dataclasses
import gc
import weakref

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import errors, lax

pytest.importorskip("pyopencl")
pytest.importorskip("plax_opencl")

from plax_opencl import devices, plugin  # noqa: E402
from plax_opencl.errors import BufferTooLarge, DeviceCapabilityError  # noqa: E402


def _opencl_available() -> bool:
    return any(info.name == "opencl" and info.available for info in plax.backends())


needs_device = pytest.mark.skipif(not _opencl_available(), reason="no OpenCL device")


def _backend():
    from plax.backend.registry import get_backend

    return get_backend("opencl")


# ----------------------------------------------------------------------------
# Discovery, probing and selection (simulated platforms: no device needed).


class _FakeDevice:
    def __init__(self, name, kind, fp64=True, extensions=""):
        import pyopencl as cl

        self.name = name
        self.type = {"gpu": cl.device_type.GPU, "cpu": cl.device_type.CPU}[kind]
        self.extensions = extensions + (" cl_khr_fp64" if fp64 else "")
        self.double_fp_config = 63 if fp64 else 0
        self.single_fp_config = 191
        self.profile = "FULL_PROFILE"
        self.version = "OpenCL 1.2"
        self.driver_version = "1.0"
        self.max_mem_alloc_size = 1 << 30
        self.global_mem_size = 1 << 32
        self.local_mem_size = 1 << 15
        self.max_work_group_size = 256
        self.max_compute_units = 4


class _FakePlatform:
    def __init__(self, name, devices_or_error):
        self.name = name
        self.version = "OpenCL 1.2"
        self._devices = devices_or_error

    def get_devices(self):
        if isinstance(self._devices, Exception):
            raise self._devices
        return self._devices


@pytest.fixture
def fake_platforms(monkeypatch):
    """Replace the platform scan; each test sets ``fake_platforms.result``."""
    import pyopencl as cl

    class Scan:
        result = []

    def platforms():
        if isinstance(Scan.result, BaseException):
            raise Scan.result
        return cl, Scan.result

    monkeypatch.setattr(devices, "_platforms", platforms)
    monkeypatch.delenv(devices.ENV_VAR, raising=False)
    devices.reset()
    yield Scan
    devices.reset()


def test_probe_reports_missing_pyopencl(fake_platforms):
    fake_platforms.result = ImportError("No module named 'pyopencl'")
    ok, reason = plugin._probe()
    assert not ok
    assert "pyopencl is not importable" in reason and "pip install pyopencl" in reason


def test_probe_reports_no_platform(fake_platforms):
    fake_platforms.result = RuntimeError("clGetPlatformIDs failed: PLATFORM_NOT_FOUND_KHR")
    ok, reason = plugin._probe()
    assert not ok
    assert "no OpenCL platform found" in reason and "pocl-binary-distribution" in reason


def test_probe_reports_a_failing_icd_loader(fake_platforms):
    fake_platforms.result = OSError("libOpenCL.so.1: cannot open shared object file")
    ok, reason = plugin._probe()
    assert not ok
    assert "ICD loader failed" in reason and "libOpenCL.so.1" in reason


def test_probe_reports_platforms_without_devices(fake_platforms):
    fake_platforms.result = [_FakePlatform("Broken", RuntimeError("DEVICE_NOT_FOUND"))]
    ok, reason = plugin._probe()
    assert not ok
    assert "no OpenCL device" in reason and "Broken" in reason and "DEVICE_NOT_FOUND" in reason


def test_gpus_rank_above_cpus_and_selection_by_env(fake_platforms, monkeypatch):
    cpu = _FakeDevice("Some CPU", "cpu")
    gpu = _FakeDevice("Radeon gfx1100", "gpu", fp64=False, extensions="cl_khr_fp16")
    fake_platforms.result = [_FakePlatform("PoCL", [cpu]), _FakePlatform("AMD", [gpu])]
    found = devices.discover()
    assert [d.name for d in found] == ["Radeon gfx1100", "Some CPU"]
    assert found[0].address == "1:0" and not found[0].fp64 and found[0].fp16
    assert found[1].fp64 and not found[1].fp16
    assert "float16 native" in found[0].description()
    monkeypatch.setenv(devices.ENV_VAR, "0:0")
    assert devices.discover()[0].name == "Some CPU"
    monkeypatch.setenv(devices.ENV_VAR, "cpu")
    assert devices.discover()[0].name == "Some CPU"
    monkeypatch.setenv(devices.ENV_VAR, "amd")  # a platform name works too
    assert devices.discover()[0].name == "Radeon gfx1100"
    monkeypatch.setenv(devices.ENV_VAR, "tpu")
    ok, reason = devices.probe()
    assert not ok
    assert "PLAX_OPENCL_DEVICE='tpu' matches no OpenCL device" in reason
    assert "'Some CPU'" in reason and "'Radeon gfx1100'" in reason


def test_unavailable_backend_does_not_break_plax(fake_platforms):
    from plax.backend import registry

    fake_platforms.result = RuntimeError("PLATFORM_NOT_FOUND_KHR")
    infos = {info.name: info for info in plax.backends()}
    assert not infos["opencl"].available
    assert "no OpenCL platform" in infos["opencl"].reason
    assert float(plax.jit(lambda x: x + 1, backend="reference")(1.0)) == 2.0
    if "opencl" not in registry._registry.instances:
        with pytest.raises(errors.BackendError, match="no OpenCL platform"):
            registry.get_backend("opencl")


# ----------------------------------------------------------------------------
# A real device.


@needs_device
def test_devices_and_capabilities():
    backend = _backend()
    devs = plax.devices("opencl")
    assert devs and devs[0].backend_name == "opencl"
    info = backend.infos[0]
    caps = backend.capabilities()
    assert caps.float64 == info.fp64
    assert caps.max_buffer_bytes == info.max_alloc
    notes = dict(caps.notes)
    assert info.name in notes["device"]
    assert notes["float16"] == info.float16_mode
    assert info.name in devs[0].description
    assert backend.info()["devices"] == len(devs)


@needs_device
def test_execution_is_asynchronous_and_reads_synchronise():
    x = plax.device_put(np.ones((256, 256), np.float32), plax.devices("opencl")[0])
    f = plax.jit(lambda x: pnp.tanh(x) * 3 + x)
    y = f(x)
    buffer = y._buffer
    # Dispatch returned with the command possibly still queued; block_until_ready waits
    # on the producing event and clears it; a read returns the finished values.
    assert y.block_until_ready() is y
    assert buffer.event is None
    np.testing.assert_allclose(np.asarray(y), np.tanh(1.0) * 3 + 1, rtol=1e-6)
    z = f(y)
    np.testing.assert_allclose(np.asarray(z), np.tanh(np.tanh(1.0) * 3 + 1) * 3 +
                               np.tanh(1.0) * 3 + 1, rtol=1e-5)


@needs_device
def test_buffers_are_released_with_their_arrays():
    x = plax.device_put(np.arange(1000, dtype=np.float32), plax.devices("opencl")[0])
    y = x * 2
    ref = weakref.ref(y._buffer)
    mem = weakref.ref(y._buffer.mem) if hasattr(type(y._buffer.mem), "__weakref__") else None
    del y
    gc.collect()
    assert ref() is None
    if mem is not None:
        assert mem() is None


@needs_device
def test_programs_are_cached_in_memory():
    backend = _backend()
    stats = backend.state(plax.devices("opencl")[0]).programs.stats
    x = np.arange(10, dtype=np.int16)
    plax.jit(lambda x: x * 7 - 1, backend="opencl")(x)
    before = dict(stats)
    # Another size and another program with the same kernel: no new build.
    plax.jit(lambda x: x * 7 - 1, backend="opencl")(np.arange(77, dtype=np.int16))
    assert stats["programs"] == before["programs"]
    # A dtype sibling of that kernel was built with it (CPU devices).
    if backend.state(plax.devices("opencl")[0]).programs.dispatch:
        plax.jit(lambda x: x * 7 - 1, backend="opencl")(np.arange(5, dtype=np.uint32))
        assert stats["programs"] == before["programs"]


@needs_device
def test_dump_writes_schedule_and_opencl_source(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAX_DUMP", str(tmp_path))
    plax.jit(lambda x: pnp.sin(x) + 1, backend="opencl")(np.ones(5, np.float32))
    kinds = {p.suffix for p in tmp_path.iterdir()}
    assert {".jaxpr", ".schedule", ".cl"} <= kinds
    source = next(p for p in tmp_path.iterdir() if p.suffix == ".cl").read_text()
    assert "__kernel" in source and "sin(" in source


# ----------------------------------------------------------------------------
# Bad input: each a clear error naming the device.


@needs_device
def test_rejected_program_shows_the_build_log():
    backend = _backend()
    programs = backend.state(plax.devices("opencl")[0]).programs
    source = "__kernel void broken(__global float* a) { a[0] = not_declared_anywhere; }"
    with pytest.raises(errors.BackendCompileError) as info:
        programs.program(source)
    message = str(info.value)
    assert backend.infos[0].name in message
    assert "rejected a program" in message and "Build log" in message
    assert "not_declared_anywhere" in message


@needs_device
def test_buffer_larger_than_the_device_allows():
    backend = _backend()
    limit = backend.infos[0].max_alloc
    n = limit // 4 + 1024

    def f(x):
        return lax.broadcast_in_dim(x, (n,), ())

    with pytest.raises(BufferTooLarge) as info:
        plax.jit(f, backend="opencl")(np.float32(1))
    message = str(info.value)
    assert backend.infos[0].name in message and "CL_DEVICE_MAX_MEM_ALLOC_SIZE" in message


@needs_device
def test_float64_on_a_device_without_it():
    from plax_opencl.backend import OpenCLBackend

    backend = OpenCLBackend()
    backend.infos[0] = dataclasses.replace(backend.infos[0], fp64=False)
    device = backend.devices()[0]
    assert not backend.capabilities().float64
    with pytest.raises(DeviceCapabilityError, match="does not support float64") as info:
        backend.buffer_from_numpy(np.ones(3, np.float64), device)
    assert backend.infos[0].name in str(info.value)
    plax.config.update("enable_x64", True)
    try:
        closed = plax.make_jaxpr(lambda x: x * 2)(np.ones(3, np.float64))
    finally:
        plax.config.update("enable_x64", False)
    with pytest.raises(DeviceCapabilityError, match="cl_khr_fp64"):
        backend.compile(closed, device)
    # float32 still works on that device.
    closed32 = plax.make_jaxpr(lambda x: x * 2)(np.ones(3, np.float32))
    executable = backend.compile(closed32, device)
    (out,) = executable.execute([backend.buffer_from_numpy(np.ones(3, np.float32), device)])
    np.testing.assert_array_equal(backend.buffer_to_numpy(out), [2, 2, 2])


@needs_device
def test_gpu_code_paths_on_this_device():
    """The code GPUs get -- one __kernel per kernel, grid-stride loops, local memory
    passed as kernel arguments, 256-thread work-groups, 16x16 matmul tiles -- run
    here by presenting this device as a GPU."""
    from plax_opencl.backend import OpenCLBackend

    backend = OpenCLBackend()
    info = backend.infos[0]
    if info.max_work_group_size < 256:
        pytest.skip("the device's work-groups are smaller than a GPU's")
    backend.infos[0] = dataclasses.replace(info, kind="gpu")
    device = backend.devices()[0]
    state = backend.state(device)
    assert not state.programs.dispatch and state.local_size == 256
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 1000)).astype(np.float32)
    w = rng.integers(-3, 4, (1000, 70)).astype(np.float32)

    def f(x, w):
        e = pnp.exp(x - pnp.max(x, axis=-1, keepdims=True))
        soft = e / pnp.sum(e, axis=-1, keepdims=True)
        return soft, pnp.argmax(x, axis=1), x.sum(0), pnp.round(x) @ w, pnp.tanh(x) * 2

    closed = plax.make_jaxpr(f)(x, w)
    executable = backend.compile(closed, device)
    outs = executable.execute([backend.buffer_from_numpy(a, device) for a in (x, w)])
    want = plax.jit(f, backend="reference")(x, w)
    for k, (o, r) in enumerate(zip(outs, want)):
        np.testing.assert_allclose(backend.buffer_to_numpy(o), np.asarray(r), rtol=2e-5,
                                   atol=1e-5, err_msg=f"output {k}")
    assert "get_global_size" in executable.as_text() and "barrier" in executable.as_text()
