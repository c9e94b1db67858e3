"""Pytest fixtures around the loopback AirTable server.

Import into a conftest with ``from tests.fixtures_airtable import fake_airtable  # noqa: F401``.
"""

from collections.abc import Iterator

import pytest

from tests.fake_airtable import FakeAirtable


@pytest.fixture
def fake_airtable() -> Iterator[FakeAirtable]:
    """A running FakeAirtable (token ``test-token``, no rate limit), stopped after the test."""
    with FakeAirtable() as server:
        yield server
    assert not server.internal_errors, server.internal_errors[0]
