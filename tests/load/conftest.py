from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder of this test's own: pytest keeps only its 3 latest runs' folders, so on a machine where other test
    runs start meanwhile, a minutes-long load run would have its servers' data deleted under them."""
    with tempfile.TemporaryDirectory(prefix="warmdesk-load-") as folder:
        yield Path(folder)
