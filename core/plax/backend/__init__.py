"""The plugin contract (``interface``, ``hookspecs``) and the registry that finds
and selects backends. Backend packages import only from here and from the
public core modules."""

from plax.backend.hookspecs import hookimpl
from plax.backend.interface import Backend, BackendSpec, Capabilities, Device, Executable

__all__ = ["Backend", "BackendSpec", "Capabilities", "Device", "Executable", "hookimpl"]
