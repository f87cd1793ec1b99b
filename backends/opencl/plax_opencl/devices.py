"""Finding OpenCL devices and what they can do.

Every device of every platform is a plax device. They are ranked GPUs first, then
accelerators, then CPUs (in platform and device order within a kind); the device
named by ``PLAX_OPENCL_DEVICE`` comes first of all, which makes it the default.
``PLAX_OPENCL_DEVICE`` is ``"platform:device"`` (indices as ``clinfo`` and
``plax info`` list them) or a case-insensitive substring of the device or platform
name (``"gfx"``, ``"pthread"``, ``"NVIDIA"``).

Probing never raises: ``probe()`` returns the devices or the reason there are
none (no pyopencl, no platform, an ICD loader that fails, no device, a selection
that matches nothing), so plax reports it and keeps working on other backends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["DeviceInfo", "probe", "discover", "reset", "select", "NoDevice", "ENV_VAR"]

ENV_VAR = "PLAX_OPENCL_DEVICE"

_KIND_RANK = {"gpu": 0, "accelerator": 1, "cpu": 2, "other": 3}

# cl_device_fp_config bits.
_FP_DENORM = 1 << 0
_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT = 1 << 7


class NoDevice(RuntimeError):
    """No usable OpenCL device (the message says why and what to install)."""


@dataclass
class DeviceInfo:
    """One OpenCL device and the facts plax needs about it."""

    platform_index: int
    device_index: int
    platform_name: str
    platform_version: str
    name: str
    kind: str
    version: str
    driver_version: str
    extensions: frozenset
    fp64: bool
    fp16: bool
    int64: bool
    denormals: bool
    correctly_rounded_div_sqrt: bool
    max_alloc: int
    global_mem: int
    local_mem: int
    max_work_group_size: int
    compute_units: int
    cl_device: object = None

    @property
    def address(self) -> str:
        return f"{self.platform_index}:{self.device_index}"

    @property
    def label(self) -> str:
        """How errors name the device."""
        return f"OpenCL device {self.address} {self.name!r} ({self.platform_name})"

    @property
    def float16_mode(self) -> str:
        return "native (cl_khr_fp16)" if self.fp16 else "storage (float32 compute)"

    def description(self) -> str:
        caps = [self.kind, self.version.strip()]
        caps.append("float64" if self.fp64 else "no float64")
        caps.append(f"float16 {self.float16_mode}")
        caps.append(f"max alloc {_bytes(self.max_alloc)}")
        caps.append(f"work-group {self.max_work_group_size}")
        caps.append(f"{self.compute_units} compute units")
        return f"[{self.address}] {self.name} ({self.platform_name}; {', '.join(caps)})"


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _kind(cl, device_type: int) -> str:
    if device_type & cl.device_type.GPU:
        return "gpu"
    if device_type & cl.device_type.ACCELERATOR:
        return "accelerator"
    if device_type & cl.device_type.CPU:
        return "cpu"
    return "other"


def _info(cl, p_index: int, platform, d_index: int, device) -> DeviceInfo:
    extensions = frozenset(device.extensions.split())
    try:
        double_config = int(device.double_fp_config)
    except cl.Error:
        double_config = 0
    single_config = int(device.single_fp_config)
    embedded = "EMBEDDED" in device.profile.upper()
    return DeviceInfo(
        platform_index=p_index,
        device_index=d_index,
        platform_name=platform.name.strip(),
        platform_version=platform.version.strip(),
        name=device.name.strip(),
        kind=_kind(cl, device.type),
        version=device.version.strip(),
        driver_version=device.driver_version.strip(),
        extensions=extensions,
        fp64="cl_khr_fp64" in extensions or double_config != 0,
        fp16="cl_khr_fp16" in extensions,
        int64=not embedded or "cles_khr_int64" in extensions,
        denormals=bool(single_config & _FP_DENORM),
        correctly_rounded_div_sqrt=bool(single_config & _FP_CORRECTLY_ROUNDED_DIVIDE_SQRT),
        max_alloc=int(device.max_mem_alloc_size),
        global_mem=int(device.global_mem_size),
        local_mem=int(device.local_mem_size),
        max_work_group_size=int(device.max_work_group_size),
        compute_units=int(device.max_compute_units),
        cl_device=device,
    )


def _platforms():
    """The OpenCL platforms (a seam tests replace to simulate missing drivers)."""
    import pyopencl as cl

    return cl, cl.get_platforms()


_cache: dict = {}


def reset() -> None:
    """Forget what discovery found (tests that simulate drivers call this)."""
    _cache.clear()


def discover() -> list[DeviceInfo]:
    """Every usable device, ranked (the selected or best one first); raises NoDevice
    with the reason when there is none. The platform scan runs once per process."""
    scan = _cache.get("scan")
    if scan is None:
        try:
            scan = _cache["scan"] = _scan()
        except NoDevice as err:
            _cache["scan"] = err
            raise
    if isinstance(scan, NoDevice):
        raise NoDevice(str(scan))
    found = list(scan)
    request = os.environ.get(ENV_VAR, "").strip()
    if request:
        chosen = select(found, request)
        found.remove(chosen)
        found.insert(0, chosen)
    return found


def _scan() -> list[DeviceInfo]:
    try:
        cl, platforms = _platforms()
    except ImportError as err:
        raise NoDevice(f"pyopencl is not importable: {err} (pip install pyopencl)") from None
    except Exception as err:  # noqa: BLE001 -- report the real reason
        text = str(err)
        if "PLATFORM_NOT_FOUND" in text or "-1001" in text:
            raise NoDevice(
                "no OpenCL platform found (clGetPlatformIDs: PLATFORM_NOT_FOUND_KHR): no "
                "OpenCL driver (ICD) is installed, or every installed ICD failed to load. "
                "Install your GPU vendor's OpenCL driver, or `pip install "
                "pocl-binary-distribution` for a CPU device"
            ) from None
        raise NoDevice(f"the OpenCL ICD loader failed: {type(err).__name__}: {text}") from None
    if not platforms:
        raise NoDevice(
            "no OpenCL platform found: install your GPU vendor's OpenCL driver, or "
            "`pip install pocl-binary-distribution` for a CPU device"
        )
    found: list[DeviceInfo] = []
    problems = []
    for p_index, platform in enumerate(platforms):
        try:
            devices = platform.get_devices()
        except Exception as err:  # noqa: BLE001 -- a broken platform must not hide others
            problems.append(f"platform {p_index} ({_safe_name(platform)}): {err}")
            continue
        for d_index, device in enumerate(devices):
            try:
                found.append(_info(cl, p_index, platform, d_index, device))
            except Exception as err:  # noqa: BLE001
                problems.append(f"device {p_index}:{d_index}: {type(err).__name__}: {err}")
    if not found:
        detail = f" ({'; '.join(problems)})" if problems else ""
        names = ", ".join(_safe_name(p) for p in platforms)
        raise NoDevice(f"no OpenCL device on the installed platforms [{names}]{detail}")
    found.sort(key=lambda d: (_KIND_RANK[d.kind], d.platform_index, d.device_index))
    return found


def _safe_name(platform) -> str:
    try:
        return repr(platform.name.strip())
    except Exception:  # noqa: BLE001
        return "?"


def select(found: list[DeviceInfo], request: str) -> DeviceInfo:
    """The device ``request`` names ("p:d" or a name substring)."""
    if ":" in request:
        head, _, tail = request.partition(":")
        if head.strip().isdigit() and tail.strip().isdigit():
            address = f"{int(head)}:{int(tail)}"
            for d in found:
                if d.address == address:
                    return d
            raise NoDevice(_no_match(found, request))
    needle = request.lower()
    for d in found:
        if needle in d.name.lower():
            return d
    for d in found:
        if needle in d.platform_name.lower():
            return d
    raise NoDevice(_no_match(found, request))


def _no_match(found: list[DeviceInfo], request: str) -> str:
    listing = "; ".join(f"{d.address} {d.name!r} ({d.platform_name})" for d in found)
    return (f"{ENV_VAR}={request!r} matches no OpenCL device; use 'platform:device' or a "
            f"part of a device name. Devices: {listing}")


def probe() -> tuple[bool, str]:
    """(available, reason) without raising."""
    try:
        discover()
    except NoDevice as err:
        return False, str(err)
    except Exception as err:  # noqa: BLE001 -- a probe must not break plax
        return False, f"OpenCL probe failed: {type(err).__name__}: {err}"
    return True, ""
