"""``plax.lax``: the primitives, with strict typing (no implicit promotion).

Each submodule holds one family of primitives and lists its public wrappers
in ``__all__``; a primitive's rules all sit next to it.
"""

from plax.lax.base import canonicalize_axis  # noqa: F401
from plax.lax.convert import *  # noqa: F401,F403
from plax.lax.comparisons import *  # noqa: F401,F403
from plax.lax.bitwise import *  # noqa: F401,F403
from plax.lax.elementwise import *  # noqa: F401,F403
from plax.lax.transcendental import *  # noqa: F401,F403
from plax.lax.shapes import *  # noqa: F401,F403
from plax.lax.indexing import *  # noqa: F401,F403
from plax.lax.reductions import *  # noqa: F401,F403
from plax.lax.linalg import *  # noqa: F401,F403
from plax.lax.convolution import *  # noqa: F401,F403
from plax.lax.windowed import *  # noqa: F401,F403
from plax.lax.sorting import *  # noqa: F401,F403
from plax.lax.parallel import *  # noqa: F401,F403
from plax.lax.ad_util import *  # noqa: F401,F403
from plax.lax.control_flow import *  # noqa: F401,F403
