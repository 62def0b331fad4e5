"""Fixtures for the intake tests: a real IMAP server (Debian's dovecot) on loopback.

`imap_server` is an empty mailbox on a `dovecot -F` started once per session with a generated
configuration: loopback only, a free port, no TLS, mailbox users with plain passwords in a
passwd-file (a new user per test), maildir storage, its own base_dir and log file. The files live in a short directory made with mkdtemp rather than in pytest's
tmp_path: dovecot's unix sockets must fit in 108 bytes, and when the tests run as root the mail
processes run as the unprivileged `dovecot` user (dovecot refuses mail access as uid 0), which
cannot enter pytest's 0700 tmp_path. Running as another user, everything runs as that user.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from complexcases.notifications.tests.fixtures import free_port
from conftest import skip_or_fail

DOVECOT = "/usr/sbin/dovecot"


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        client = self.client()
        try:
            typ, _ = client.append(folder, flags or None, None, raw)
            assert typ == "OK"
        finally:
            client.logout()

    def create_folder(self, folder: str) -> None:
        client = self.client()
        try:
            assert client.create(folder)[0] == "OK"
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, str]:
        """UID -> flags of every message in the folder."""
        client = self.client()
        try:
            client.select(folder, readonly=True)
            typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
            result: dict[int, str] = {}
            for line in data:
                if not isinstance(line, bytes):
                    continue
                text = line.decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                result[uid] = text.split("FLAGS (", 1)[1].split(")", 1)[0]
            return result
        finally:
            client.logout()

    def clear_seen(self, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            client.select(folder)
            client.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
        finally:
            client.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def settings(self, settings: Any) -> None:
        settings.CC_IMAP_HOST = self.host
        settings.CC_IMAP_PORT = self.port
        settings.CC_IMAP_SSL = False
        settings.CC_IMAP_USER = self.user
        settings.CC_IMAP_PASSWORD = self.password
        settings.CC_IMAP_FOLDER = "INBOX"
        settings.CC_IMAP_REGION = "EOE"


def _accounts() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) for dovecot's processes."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    for internal, login in (("dovecot", "dovenull"), ("nobody", "nobody")):
        try:
            mail = pwd.getpwnam(internal)
            pwd.getpwnam(login)
        except KeyError:
            continue
        return internal, login, mail.pw_uid, mail.pw_gid
    raise RuntimeError("no unprivileged user for dovecot")


def _config(root: Path, port: int) -> str:
    internal, login, uid, gid = _accounts()
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = cc-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass(frozen=True)
class _Dovecot:
    root: Path
    port: int
    next_mailbox: Iterator[int] = field(default_factory=itertools.count)


# Every mailbox user is written before dovecot starts: dovecot re-reads a changed passwd-file
# at most once a second, so users added during the run would fail to sign in now and then.
MAILBOXES = 1000
PASSWORD = "test-only-password"


def _user(n: int) -> str:
    return f"cc{n:04d}"


@pytest.fixture(scope="session")
def _dovecot() -> Iterator[_Dovecot]:
    """One dovecot for the session (starting and stopping one takes about a second)."""
    if not os.access(DOVECOT, os.X_OK):
        skip_or_fail(f"{DOVECOT} is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="cc-imap-"))
    root.chmod(0o755)
    port = free_port()
    _internal, _login, uid, gid = _accounts()
    (root / "mail").mkdir()
    os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text(
        "".join(f"{_user(n)}:{{PLAIN}}{PASSWORD}\n" for n in range(MAILBOXES))
    )
    (root / "dovecot.conf").write_text(_config(root, port))
    process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not _wait_for_port(port, process):
            stderr = b""
            if process.poll() is not None and process.stderr is not None:
                stderr = process.stderr.read()
            log = root / "dovecot.log"
            pytest.fail(
                f"dovecot did not start: {stderr.decode(errors='replace')}\n"
                f"{log.read_text(errors='replace') if log.exists() else ''}",
                pytrace=False,
            )
        yield _Dovecot(root, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_server(_dovecot: _Dovecot) -> ImapServer:
    """A fresh, empty mailbox (a user of its own) on the session's dovecot."""
    n = next(_dovecot.next_mailbox)
    assert n < MAILBOXES, "raise MAILBOXES"
    return ImapServer("127.0.0.1", _dovecot.port, _user(n), PASSWORD, _dovecot.root)


@pytest.fixture
def world(db: Any) -> Any:
    from complexcases.referrals.tests.world import build_world

    return build_world()
