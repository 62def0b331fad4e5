"""The worker processes of a large screening run (see facts.screen_caseload).

Imported by spawned processes before Django is set up, so it imports nothing from the apps at the
top: `start` sets Django up on the run's database, then `screen` reads and screens a chunk.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

_screeners: dict[tuple[str, dt.date], Any] = {}


def start(settings_module: str, database: dict[str, Any]) -> None:
    """Set up Django in a worker, on the run's database (in tests, the test database)."""
    if settings_module:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict.update(
        {key: database[key] for key in ("NAME", "USER", "HOST", "PORT") if key in database}
    )


def screen(task: tuple[dict[str, Any], dt.date, list[tuple[int, int, int]]]) -> list[tuple]:
    """Read and screen one chunk: the rows facts.screen_chunk makes."""
    from complexcases.screening.facts import screen_chunk
    from complexcases.screening.rules import Screener

    parameters, as_of, people = task
    key = (repr(sorted(parameters.items())), as_of)
    screener = _screeners.get(key)
    if screener is None:
        screener = _screeners[key] = Screener(parameters, as_of)
    return screen_chunk(screener, parameters, as_of, people)
