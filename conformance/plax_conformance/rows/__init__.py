"""The registry's rows, one module per family. Importing this package registers them, in
this order (the order of the case list and of the reports).

To cover a new primitive, add a row to the module of its family (or add a module and
import it here); ``tests/test_conf_coverage.py`` fails while a primitive has no row.
"""

# isort: off
from plax_conformance.rows import elementwise  # noqa: F401
from plax_conformance.rows import structural  # noqa: F401
from plax_conformance.rows import reductions  # noqa: F401
from plax_conformance.rows import linalg  # noqa: F401
from plax_conformance.rows import numpy_api  # noqa: F401
from plax_conformance.rows import programs  # noqa: F401
from plax_conformance.rows import edges  # noqa: F401
from plax_conformance.rows import transforms  # noqa: F401
