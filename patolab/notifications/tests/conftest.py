from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import free_port

from .smtp import ScriptedSmtp, point_django_at


@pytest.fixture
def scripted_smtp(settings: Any) -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp(port=free_port()).start()
    point_django_at(settings, server.port)
    yield server
    server.stop()
