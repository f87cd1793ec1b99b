"""plax-cpu-llvm: the CPU backend of plax.

Programs are fused into kernels by ``plax.lowering``, rendered to LLVM IR
(``codegen``), compiled for the host CPU with llvmlite (``compiler``) and run
through ctypes on numpy buffers, multithreaded where large (``runtime``).
The backend is found through the ``plax.backends`` entry point
(``plugin.py``); importing this package imports nothing heavy.
"""

from plax_cpu_llvm._version import __version__

__all__ = ["__version__"]
