from __future__ import annotations

import pytest

from .factories import make_catalog


@pytest.fixture
def catalog(db: None):
    return make_catalog()
