"""``plax.numpy``: the NumPy API built from lax, with JAX's promotion rules.

Submodules by family; each lists its public names in ``__all__``.
"""

from plax.numpy.dtypes_api import *  # noqa: F401,F403
from plax.numpy.creation import *  # noqa: F401,F403
from plax.numpy.ufuncs import *  # noqa: F401,F403
from plax.numpy.comparisons import *  # noqa: F401,F403
from plax.numpy.reductions import *  # noqa: F401,F403
from plax.numpy.manipulation import *  # noqa: F401,F403
from plax.numpy.joining import *  # noqa: F401,F403
from plax.numpy.linalg import *  # noqa: F401,F403
from plax.numpy.einsum import *  # noqa: F401,F403
from plax.numpy.indexing import *  # noqa: F401,F403
from plax.numpy.sorting import *  # noqa: F401,F403
from plax.numpy.misc import *  # noqa: F401,F403
from plax.numpy import array_methods as _array_methods

_array_methods.install()
