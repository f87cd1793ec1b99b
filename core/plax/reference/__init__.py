"""The built-in reference backend: numpy evaluation of every primitive.

It registers through the ``plax.backends`` entry point like any plugin, has
the lowest priority, and is the oracle the conformance suite checks against.
"""
