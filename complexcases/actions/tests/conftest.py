from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from complexcases.actions.tests.world import NOW, build_actions_world


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db: Any, clock: Any) -> Any:
    return build_actions_world()
