"""Fixtures for the insights tests."""

from tests.adapters.conftest import browser  # noqa: F401 (the shared Chromium, for the page tests)
