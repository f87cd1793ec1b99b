__version__ = "0.1.0"

# The JSON report's schema version (see docs/conformance.md). Major: a field removed or
# changed in meaning; minor: a field added.
SCHEMA_VERSION = "1.0"
