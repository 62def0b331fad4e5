"""The one way a workflow object changes status: lock, check the move against a table, record it.

Each workflow app keeps its statuses and allowed moves as plain data in `states.py` and calls
`transition` from its `*_transition` service. No FSM library: the table and this helper are easier
to read and test (STYLE.md, "State changes").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction

from complexcases.core import clock
from complexcases.core.audit import audit_record

M = TypeVar("M", bound=models.Model)


class TransitionNotAllowed(Exception):
    """The move is not in the table (or the object moved since the caller read it)."""

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"Cannot move from {from_status!r} to {to_status!r}")
        self.from_status = from_status
        self.to_status = to_status


def transition(
    *,
    queryset: models.QuerySet[M],
    pk: Any,
    to: str,
    moves: Mapping[str, frozenset[str]],
    actor: Any,
    reason: str,
    history_model: type[models.Model],
    history_fields: Mapping[str, Any],
    object_type: str,
    person_crn: str = "",
    changes: Mapping[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    field: str = "status",
) -> M:
    """Move one row to `to`, if the table allows it from the status it has *now*.

    The row is re-read under SELECT ... FOR UPDATE, so two concurrent moves of the same row are
    serialised: the second sees the first's result and is checked against it (a lost update is
    impossible). `changes` are other fields written with the move (e.g. a closure reason). Writes
    one history row (`history_model(**history_fields, from_status, to_status, actor, reason,
    occurred_at, details)`) and the audit record, in the same transaction. Raises
    TransitionNotAllowed for a move outside the table; AuditUnavailable rolls everything back.
    """
    with transaction.atomic():
        obj = queryset.select_for_update().get(pk=pk)
        current = getattr(obj, field)
        if to not in moves.get(current, frozenset()):
            raise TransitionNotAllowed(current, to)
        now = clock.now()
        setattr(obj, field, to)
        for name, value in (changes or {}).items():
            setattr(obj, name, value)
        obj.save(update_fields=[field, *(changes or {})])
        history_model.objects.create(  # type: ignore[attr-defined]
            **history_fields,
            from_status=current,
            to_status=to,
            actor=actor,
            reason=reason,
            occurred_at=now,
            details=details or {},
        )
        audit_record(
            actor=actor,
            action="transition",
            object_type=object_type,
            object_id=obj.pk,
            person_crn=person_crn,
            before={field: current},
            after={field: to, **{k: str(v) for k, v in (changes or {}).items()}},
            reason=reason,
            details=details,
        )
    return obj
