"""Entry point of the ``cpu_llvm`` backend (``plax.backends: cpu_llvm``).

Imports nothing heavy: llvmlite is loaded by the availability probe and by the
loader, never when plax discovers plugins.
"""

from __future__ import annotations

from plax.backend import BackendSpec, hookimpl

# Above the reference backend (0): the default CPU backend. It passes the full
# conformance suite and the core test suite run with it as the default.
PRIORITY = 100


def _load():
    from plax_cpu_llvm.backend import CpuLlvmBackend

    return CpuLlvmBackend()


def _probe() -> tuple[bool, str]:
    try:
        import llvmlite.binding as llvm
    except ImportError as err:
        return False, f"llvmlite is not importable: {err} (pip install llvmlite)"
    try:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        llvm.Target.from_triple(llvm.get_process_triple())
    except Exception as err:  # noqa: BLE001 -- report the real reason, never raise
        return False, f"LLVM cannot target this machine: {type(err).__name__}: {err}"
    return True, ""


@hookimpl
def plax_backends():
    return [BackendSpec("cpu_llvm", priority=PRIORITY, load=_load, is_available=_probe)]
