"""Keep personal data out of log output.

`RedactPersonalDataFilter` is attached to every handler in settings.LOGGING, so it runs on every
record just before it is formatted. It rewrites the record's message, replacing:

- CRN-shaped tokens (a letter and six digits) and dates (YYYY-MM-DD, which may be dates of birth);
- email addresses;
- the path segments after /people/ (a case page's CRN and the rest of its path);
- query strings after a URL path, and for request logs (django.request, django.server,
  django.security) any query string;
- the repr of a QueryDict (request.GET or request.POST logged whole).

Exception messages are withheld: they can carry any value from the data (a DoesNotExist lookup,
an IntegrityError's DETAIL, a ValidationError), including names that no pattern can spot. The
log keeps the exception's type and the stack (file, line and source code), which is what a
developer needs, and the request id ties it to the audit trail when more is needed.

Names cannot be recognised by pattern: the rule for code is never to log a name, note or any
field of a person; this filter is the safety net for identifiers, not a licence.
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

REDACTED = "[redacted]"

_CRN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{6}(?![0-9])")
_DATE = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PEOPLE_PATH = re.compile(r"(/people/)[^\s\"']*")
_QUERY = re.compile(r"\?[^\s\"']*")
# A query string after a URL path anywhere in a message ("/lists/?q=...").
_PATH_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']+")
# The repr of request.GET / request.POST, should anyone log one.
_QUERYDICT = re.compile(r"<QueryDict: .*?}>", re.DOTALL)

REQUEST_LOGGERS = ("django.request", "django.server", "django.security")


def redact(text: str, *, request_log: bool = False) -> str:
    """The text with identifiers replaced by [redacted]."""
    text = _QUERYDICT.sub("<QueryDict: " + REDACTED + ">", text)
    text = _PEOPLE_PATH.sub(r"\1" + REDACTED, text)
    text = _PATH_QUERY.sub(r"\1?" + REDACTED, text)
    if request_log:
        text = _QUERY.sub("?" + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _CRN.sub(REDACTED, text)
    return _DATE.sub(REDACTED, text)


def format_exception_without_messages(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None],
) -> str:
    """A traceback (with chained exceptions) showing each exception's type but not its message."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    exc: BaseException | None = exc_info[1]
    while exc is not None and id(exc) not in seen:
        chain.append(exc)
        seen.add(id(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    parts: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            parts.append("\nDuring or after the exception above, another exception occurred:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        kind = type(item)
        parts.append(f"{kind.__module__}.{kind.__qualname__}: [message withheld]")
    return "".join(parts)


class RedactPersonalDataFilter(logging.Filter):
    """Rewrite each record so that no identifier reaches a handler's output. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_cc_redacted", False):
            return True
        request_log = record.name.startswith(REQUEST_LOGGERS)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must not hide the record, nor leak its args
            message = str(record.msg)
        record.msg = redact(message, request_log=request_log)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(format_exception_without_messages(record.exc_info))  # type: ignore[arg-type]
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        # Extras that formatters or handlers might print: the request object (its repr holds the
        # path) and Django's SQL extras.
        for attribute in ("request", "sql", "params"):
            if hasattr(record, attribute):
                setattr(record, attribute, REDACTED)
        record._cc_redacted = True  # type: ignore[attr-defined]
        return True
