"""A thin IMAP client over the standard library's imaplib: connect, select a folder and read its
UIDVALIDITY, search, fetch without marking seen, flag and move. No Django, no decisions: the
guarantees are in services.mailbox_poll.

Every function raises OSError or imaplib.IMAP4.error when the server fails or refuses.
"""

from __future__ import annotations

import imaplib
import re
import ssl as tls

TIMEOUT_SECONDS = 30

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


def connect(*, host: str, port: int, ssl: bool, user: str, password: str) -> imaplib.IMAP4:
    """A signed-in connection. Raises OSError or imaplib.IMAP4.error."""
    client: imaplib.IMAP4
    if ssl:
        # imaplib's own default context verifies nothing (ssl._create_unverified_context):
        # verify the server's certificate and name, as for any connection carrying case data.
        client = imaplib.IMAP4_SSL(
            host, port, ssl_context=tls.create_default_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
    client.login(user, password)
    return client


def quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def select(client: imaplib.IMAP4, folder: str) -> int:
    """Select the folder read-write; its UIDVALIDITY."""
    typ, _ = client.select(quoted(folder))
    if typ != "OK":
        raise imaplib.IMAP4.error("folder could not be selected")
    _, data = client.response("UIDVALIDITY")
    value = data[0] if data and data[0] else None
    if value is None:
        typ, status = client.status(quoted(folder), "(UIDVALIDITY)")
        match = _UIDVALIDITY.search(status[0] if status and isinstance(status[0], bytes) else b"")
        if typ != "OK" or match is None:
            raise imaplib.IMAP4.error("no UIDVALIDITY")
        value = match.group(1)
    return int(value)


def _search(client: imaplib.IMAP4, *criteria: str) -> set[int]:
    typ, data = client.uid("SEARCH", *criteria)
    if typ != "OK":
        raise imaplib.IMAP4.error("search failed")
    return {int(token) for line in data if line for token in line.split()}


def uids_to_read(client: imaplib.IMAP4, after_uid: int) -> list[int]:
    """Unseen messages, and every message above the cursor, in UID order."""
    unseen = _search(client, "UNSEEN")
    # "UID n:*" always includes the highest UID, even when it is below n: drop it then, it was
    # read before.
    above = {uid for uid in _search(client, "UID", f"{after_uid + 1}:*") if uid > after_uid}
    return sorted(unseen | above)


def fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    typ, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error("fetch failed")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None  # expunged meanwhile


def has_folder(client: imaplib.IMAP4, folder: str) -> bool:
    typ, data = client.list('""', quoted(folder))
    return typ == "OK" and any(item for item in data if item)


def mark_processed(client: imaplib.IMAP4, uid: int, move_to: str) -> None:
    """Flag the message seen, then move it to `move_to` when given."""
    typ, _ = client.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
    if typ != "OK":
        raise imaplib.IMAP4.error("store failed")
    if move_to:
        typ, _ = client.uid("MOVE", str(uid), quoted(move_to))
        if typ != "OK":
            raise imaplib.IMAP4.error("move failed")
