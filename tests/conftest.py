"""Test configuration: every jaxpr plax builds is type-checked while tests run."""

import os

os.environ.setdefault("PLAX_ENABLE_CHECKS", "1")

import pytest  # noqa: E402

import plax  # noqa: E402


@pytest.fixture
def x64():
    """Run a test with 64-bit types enabled, restoring the setting afterwards."""
    previous = plax.config.read("enable_x64")
    plax.config.update("enable_x64", True)
    try:
        yield
    finally:
        plax.config.update("enable_x64", previous)
