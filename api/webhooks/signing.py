"""Sign webhook deliveries as the Standard Webhooks specification describes.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}`` and each signature is
``v1,`` + base64(HMAC-SHA256(key, content)); the header carries one signature per secret,
space-separated, so during a rotation receivers holding either the old or the new secret
can verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from secrets import token_bytes

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Boardroom-Webhooks/1"


def new_secret() -> str:
    """Return a fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header value, one ``v1,`` signature per secret."""
    if isinstance(secrets, str):
        # A bare string is a Sequence[str] too; signing with each character would be silent
        # nonsense.
        raise TypeError("secrets must be a sequence of secrets, not one string")
    if not secrets:
        raise ValueError("at least one secret is required to sign")
    if not isinstance(body, bytes):
        raise TypeError("body must be the exact bytes that will be sent")
    content = f"{msg_id}.{int(timestamp)}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()
        for secret in secrets
    )


def headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the request headers for one delivery of ``body``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret must be whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key
