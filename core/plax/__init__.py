"""plax: a JAX-style array framework whose hardware backends are plugins.

    import plax
    import plax.numpy as pnp

    f = plax.jit(lambda x: pnp.sin(x) * 2)
    f(pnp.arange(4.0))
"""

from plax._version import __version__
from plax.configuration import config
from plax import dtypes, errors, tree, tree_util
from plax.array import Array
from plax import dispatch as _dispatch  # installs eager execution
from plax.api import (
    ShapeDtypeStruct,
    block_until_ready,
    device_get,
    device_put,
    eval_shape,
    jit,
    make_jaxpr,
)
from plax.backend.registry import backends, default_backend, devices
from plax import lax
from plax import numpy

__all__ = [
    "Array",
    "ShapeDtypeStruct",
    "__version__",
    "backends",
    "block_until_ready",
    "config",
    "default_backend",
    "device_get",
    "device_put",
    "devices",
    "dtypes",
    "errors",
    "eval_shape",
    "jit",
    "lax",
    "make_jaxpr",
    "numpy",
    "tree",
    "tree_util",
]
