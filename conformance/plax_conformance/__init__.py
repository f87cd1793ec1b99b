"""plax-conformance: the suite every plax backend runs to prove it computes what plax means.

    plax-conformance run --backend NAME --json report.json
    pytest --pyargs plax_conformance --plax-backend=NAME

The case registry lives in ``plax_conformance.registry`` (helpers) and
``plax_conformance.rows`` (the rows). This module stays light: the pytest plugin imports
it in every pytest run of an environment where the suite is installed.
"""

from plax_conformance._version import SCHEMA_VERSION, __version__

__all__ = ["SCHEMA_VERSION", "__version__"]
