"""Handing a stored message to the world: SMTP (``BOARDROOM_SMTP_URL``) or ``.eml`` files in a folder.

A transport returns a ``SendResult``: sent, or failed and whether trying again could help. SMTP 5xx
answers are permanent (the message is ``failed`` at once); 4xx answers, refused or dropped connections
and timeouts are temporary (retried with backoff).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from api.config import SmtpSettings, parse_smtp_url

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False
    error: str | None = None


def _code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{code} {reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply}"
                         for code, reply in exc.recipients.values())
        return f"recipient refused: {text}"
    code, reply = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", None)
    if code is not None:
        reply = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        return f"SMTP {code}: {reply}"
    return f"{type(exc).__name__}: {exc}"


class SmtpTransport:
    """One connection per send: the worker sends a handful at a time, and a fresh connection never goes stale."""

    def __init__(self, settings: SmtpSettings, timeout: float = TIMEOUT_SECONDS):
        self.settings, self.timeout = settings, timeout

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.scheme == "smtps":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=ssl.create_default_context())
        client = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        if s.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        return client

    def send(self, sender: str, recipient: str, data: bytes, name: str) -> SendResult:
        try:
            with self._connect() as client:
                if self.settings.username:
                    client.login(self.settings.username, self.settings.password or "")
                client.sendmail(sender, [recipient], data)
        except (smtplib.SMTPException, OSError) as exc:
            code = _code(exc)
            return SendResult(ok=False, permanent=code is not None and 500 <= code < 600, error=_describe(exc))
        return SendResult(ok=True)


class FileTransport:
    """Writes each message as ``<name>.eml`` in a folder: what ``make run`` uses, to open in any mail client."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def send(self, sender: str, recipient: str, data: bytes, name: str) -> SendResult:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed into place: a reader never sees half a message, and a retry
            # of the same message replaces its own file.
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, self.folder / f"{name}.eml")
        except OSError as exc:
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        return SendResult(ok=True)


def from_config(config) -> SmtpTransport | FileTransport:
    """SMTP when ``SMTP_URL`` is set, else ``.eml`` files in ``MAIL_DIR``."""
    if config.get("SMTP_URL"):
        return SmtpTransport(parse_smtp_url(config["SMTP_URL"]))
    return FileTransport(config["MAIL_DIR"])
