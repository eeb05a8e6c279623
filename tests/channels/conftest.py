"""A private dovecot IMAP server and an aiosmtpd SMTP server on localhost for the email channel.

Debian's dovecot-imapd runs with its own configuration in a temporary folder: listening on
127.0.0.1 on a free port, users from a static passwd-file, maildir storage in the folder, no
SSL. Without /usr/sbin/dovecot the tests are skipped, unless OPENCX_REQUIRE_DOVECOT=1 (as in
CI), in which case they fail.
"""

from __future__ import annotations

import imaplib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from opencx.settings import get_settings

DOVECOT = Path("/usr/sbin/dovecot")
USER = "desk"
PASSWORD = "desk-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ImapServer:
    port: int

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        return imap

    def append(self, raw: bytes) -> None:
        """Put a message into the inbox as a mail server delivering it would."""
        imap = self.connect()
        try:
            status, data = imap.append("INBOX", None, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def flags(self) -> list[str]:
        imap = self.connect()
        try:
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            return [item.decode() for item in data if isinstance(item, bytes)]
        finally:
            imap.logout()

    def empty(self) -> None:
        imap = self.connect()
        try:
            _, data = imap.uid("SEARCH", "ALL")
            uids = (data[0] or b"").split()
            if uids:
                imap.uid("STORE", b",".join(uids).decode(), "+FLAGS", "(\\Deleted)")
                imap.expunge()
        finally:
            imap.logout()


def _config(folder: Path, port: int) -> str:
    me = pwd.getpwuid(os.getuid()).pw_name
    # Dovecot refuses to run its login and internal processes as root, and mail as uid 0.
    internal = "dovecot" if os.getuid() == 0 else me
    login = "dovenull" if os.getuid() == 0 else me
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = opencx-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
log_path = {folder}/dovecot.log
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/users
}}
service imap-login {{
  chroot =
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


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """One private dovecot for the test session."""
    if not DOVECOT.exists():
        if os.environ.get("OPENCX_REQUIRE_DOVECOT") == "1":
            pytest.fail("OPENCX_REQUIRE_DOVECOT=1 but /usr/sbin/dovecot is missing")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    folder = Path(tempfile.mkdtemp(prefix="opencx-dovecot-"))
    folder.chmod(0o755)  # the mail user (not root) must reach its maildir
    mail_home = folder / "mail" / USER
    mail_home.mkdir(parents=True)
    for sub in ("run", "state"):
        (folder / sub).mkdir()
    owner = pwd.getpwnam("dovecot") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    for path in (folder / "mail", mail_home):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    (folder / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{mail_home}\n"
    )
    port = _free_port()
    (folder / "dovecot.conf").write_text(_config(folder, port))
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(folder / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = ImapServer(port)
    try:
        for _ in range(100):
            if process.poll() is not None:
                raise RuntimeError(
                    f"dovecot stopped: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                server.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        else:
            log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not answer on port {port}: {log[-2000:]}")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def imap_mailbox(
    imap_server: ImapServer, settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> ImapServer:
    """An empty inbox, and OpenCX configured to read it."""
    imap_server.empty()
    monkeypatch.setenv("OPENCX_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENCX_IMAP_PORT", str(imap_server.port))
    monkeypatch.setenv("OPENCX_IMAP_SSL", "false")
    monkeypatch.setenv("OPENCX_IMAP_USERNAME", USER)
    monkeypatch.setenv("OPENCX_IMAP_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    return imap_server


class SmtpOutbox:
    """Every message the local SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp_outbox(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpOutbox]:
    outbox = SmtpOutbox()
    port = _free_port()
    controller = Controller(outbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("OPENCX_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENCX_SMTP_PORT", str(port))
    monkeypatch.setenv("OPENCX_DESK_EMAIL_FROM", "Acme Service <service@acme.example>")
    get_settings.cache_clear()
    yield outbox
    controller.stop()


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class ChannelApiServer:
    """A real HTTP server on 127.0.0.1 standing in for a channel's API: it records every request
    and answers with the next queued (status, JSON) answer, else 200 with `default_answer`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.answers: list[tuple[int, Any]] = []
        self.default_answer: Any = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                recorder.requests.append(
                    RecordedRequest(
                        method="POST",
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=json.loads(raw) if raw else None,
                    )
                )
                status, answer = (
                    recorder.answers.pop(0) if recorder.answers else (200, recorder.default_answer)
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def channel_api() -> Iterator[ChannelApiServer]:
    server = ChannelApiServer()
    yield server
    server.close()


# The browser tests of the web chat share the web app's browser and live server fixtures.
from tests.web.test_browser import browser, live_server, screenshots  # noqa: E402, F401
