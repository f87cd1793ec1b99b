"""The conformance cases as pytest tests: ``pytest --pyargs plax_conformance
--plax-backend=NAME``. The cases come from the registry (``plax_conformance.rows``);
the plugin (``plax_conformance.pytest_plugin``) parametrizes this one test with them."""

from plax_conformance.pytest_plugin import run_case


def test_case(plax_case, plax_conformance_session, request):
    run_case(plax_case, request)
