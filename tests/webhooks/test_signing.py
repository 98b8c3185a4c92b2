"""Standard Webhooks signing, checked with the reference verifier a partner would use."""

import base64
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.webhooks.signing import USER_AGENT, headers, new_secret, sign

BODY = json.dumps({"type": "booking.created", "data": {"id": 7, "title": "Café talk"}}).encode()


def test_new_secret_is_whsec_and_base64_of_32_random_bytes():
    secret = new_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_signature_matches_the_published_test_vector():
    # The example from the Standard Webhooks / Svix documentation.
    signature = sign(
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_verify_with_the_reference_library():
    secret = new_secret()
    now = int(time.time())

    sent = headers([secret], "msg_1", now, BODY)

    assert Webhook(secret).verify(BODY, sent) == json.loads(BODY)
    assert sent["webhook-id"] == "msg_1"
    assert sent["webhook-timestamp"] == str(now)
    assert sent["content-type"] == "application/json"
    assert sent["user-agent"] == USER_AGENT == "Boardroom-Webhooks/1"


def test_during_rotation_both_secrets_sign_and_either_verifies():
    old, new, stranger = new_secret(), new_secret(), new_secret()

    sent = headers([old, new], "msg_rotate", int(time.time()), BODY)

    signatures = sent["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(signature.startswith("v1,") for signature in signatures)
    Webhook(old).verify(BODY, sent)
    Webhook(new).verify(BODY, sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(BODY, sent)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, sent: (body.replace(b"7", b"8"), sent), id="body"),
        pytest.param(lambda body, sent: (body + b" ", sent), id="trailing-space"),
        pytest.param(
            lambda body, sent: (
                body,
                {**sent, "webhook-timestamp": str(int(sent["webhook-timestamp"]) - 1)},
            ),
            id="timestamp",
        ),
        pytest.param(lambda body, sent: (body, {**sent, "webhook-id": "msg_2"}), id="id"),
    ],
)
def test_tampering_breaks_verification(tamper):
    secret = new_secret()
    sent = headers([secret], "msg_1", int(time.time()), BODY)
    Webhook(secret).verify(BODY, sent)

    body, tampered = tamper(BODY, sent)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, tampered)


@pytest.mark.parametrize(
    ("secrets", "body", "error"),
    [
        ([], BODY, ValueError),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", BODY, TypeError),
        (["whsec_not base64!"], BODY, ValueError),
        (["whsec_"], BODY, ValueError),
        ([new_secret()], BODY.decode(), TypeError),
    ],
)
def test_bad_inputs_are_refused_rather_than_signed(secrets, body, error):
    with pytest.raises(error):
        sign(secrets, "msg_1", 1614265330, body)


@given(
    msg_id=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    text=st.text(),
    offset=st.integers(min_value=-240, max_value=240),
    secret_count=st.integers(min_value=1, max_value=3),
)
def test_any_message_verifies_with_each_of_its_secrets(msg_id, text, offset, secret_count):
    secrets = [new_secret() for _ in range(secret_count)]
    body = text.encode()

    sent = headers(secrets, msg_id, int(time.time()) + offset, body)

    for secret in secrets:
        Webhook(secret).verify(body, sent, json_parse=False)
