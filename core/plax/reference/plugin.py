"""Entry point of the reference backend (``plax.backends: reference``)."""

from plax.backend import BackendSpec, hookimpl


def _load():
    from plax.reference.backend import ReferenceBackend

    return ReferenceBackend()


@hookimpl
def plax_backends():
    return [BackendSpec("reference", priority=0, load=_load)]
