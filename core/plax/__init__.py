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
from plax.vmap_api import vmap
from plax.autodiff import (
    grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize, stop_gradient, value_and_grad, vjp,
)
from plax.custom_derivatives import checkpoint, checkpoint_policies, custom_jvp, custom_vjp, remat

__all__ = [
    "Array",
    "checkpoint",
    "checkpoint_policies",
    "custom_jvp",
    "custom_vjp",
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "linearize",
    "remat",
    "stop_gradient",
    "value_and_grad",
    "vjp",
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
    "vmap",
]
