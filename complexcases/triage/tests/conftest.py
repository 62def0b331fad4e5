from __future__ import annotations

from typing import Any

import pytest
import time_machine

from complexcases.triage.tests.world import NOW, build_triage_world


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db: Any, clock: Any) -> Any:
    return build_triage_world()
