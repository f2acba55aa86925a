"""tests/unit/: the pure core (overlay/domain/) and the ordered writer on a temporary SQLite
file; no server, no Redis, no browser. Marked ``unit``: ``pytest -m unit`` runs them alone."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import make_config

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest hook sees every collected item, not only this folder's.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def cfg(tmp_path: Path) -> Any:
    """The tests' demo channel (tests/support.py): EUR, match x2 up to 5,000, alerts from 1.00."""
    return make_config(tmp_path).channels[0]
