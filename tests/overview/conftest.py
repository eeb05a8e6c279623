"""The survey feedback world of the analytics tests, synced to the analytics store."""

from tests.analytics.conftest import feedback  # noqa: F401  (a fixture)
