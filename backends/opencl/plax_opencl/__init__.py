"""plax-opencl: the OpenCL backend of plax.

Programs are fused into kernels by ``plax.lowering``, rendered to OpenCL C by the
shared C renderer with the OpenCL dialect (``dialect``), built with pyopencl and
cached per device and driver (``compiler``), and enqueued asynchronously on one
in-order command queue per device (``runtime``). Every OpenCL platform and device
is a plax device (``devices``). The backend is found through the ``plax.backends``
entry point (``plugin.py``); importing this package imports nothing heavy.
"""

from plax_opencl._version import __version__

__all__ = ["__version__"]
