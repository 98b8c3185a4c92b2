"""Rules for webhook endpoints: partner scoping, safe target URLs, secrets and their rotation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from api import audit
from api.accounts.models import Partner
from api.auth import Principal
from api.errors import Conflict, NotFound, ValidationFailed
from api.outbox import OutboxEvent
from api.web import apply_sort
from api.webhooks import dispatch, signing, ssrf
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

SECRET_GRACE = timedelta(hours=24)
COORDINATOR_ONLY_EVENTS = frozenset({"contact.erased"})
AUDIT_FIELDS = ("url", "events", "description", "active", "disabled_reason")

ENDPOINT_SORTS = {"id": WebhookEndpoint.id, "created_at": WebhookEndpoint.created_at,
                  "updated_at": WebhookEndpoint.updated_at, "url": WebhookEndpoint.url}
ATTEMPT_SORTS = {"id": WebhookAttempt.id, "attempted_at": WebhookAttempt.attempted_at}
DELIVERY_SORTS = {"id": WebhookDelivery.id, "created_at": WebhookDelivery.created_at,
                  "next_attempt_at": WebhookDelivery.next_attempt_at}


def _scoped(principal: Principal) -> Select:
    stmt = select(WebhookEndpoint)
    if principal.is_partner:
        stmt = stmt.where(WebhookEndpoint.partner_id == principal.partner_id)
    return stmt


def list_endpoints(principal: Principal, args: dict) -> Select:
    stmt = _scoped(principal)
    if "updated_since" in args:
        stmt = stmt.where(WebhookEndpoint.updated_at >= args["updated_since"])
    if "active" in args:
        stmt = stmt.where(WebhookEndpoint.active.is_(args["active"]))
    return apply_sort(stmt, args.get("sort"), ENDPOINT_SORTS, default=[WebhookEndpoint.created_at])


def get_endpoint(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.scalar(_scoped(principal).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFound("No webhook with that id.")
    return endpoint


def _check_url(url: str, allow_loopback: bool, resolver: ssrf.Resolver) -> None:
    try:
        ssrf.check_url(url, allow_loopback=allow_loopback, resolver=resolver)
    except ssrf.UnsafeTarget as exc:
        raise ValidationFailed({"url": [str(exc)]}) from None


MAX_PARTNER_ENDPOINTS = 10


def _check_endpoint_count(session: Session, partner_id: str) -> None:
    """A partner has at most ``MAX_PARTNER_ENDPOINTS`` hooks (every event is sent once per hook)."""
    # Lock the partner's row so two concurrent registrations cannot both see nine (SQLite's writers queue anyway).
    session.get(Partner, partner_id, with_for_update=True)
    count = session.scalar(select(func.count()).select_from(WebhookEndpoint)
                           .where(WebhookEndpoint.partner_id == partner_id))
    if count >= MAX_PARTNER_ENDPOINTS:
        raise ValidationFailed({"url": [(f"A partner may register at most {MAX_PARTNER_ENDPOINTS} webhooks; "
                                         "delete one first, or subscribe one hook to more events.")]})


def _check_events(partner_hook: bool, events: list[str]) -> None:
    forbidden = sorted(COORDINATOR_ONLY_EVENTS & set(events))
    if partner_hook and forbidden:
        raise ValidationFailed({"events": [f"{', '.join(forbidden)} is for programme-wide hooks only."]})


def create_endpoint(session: Session, principal: Principal, data: dict, *, allow_loopback: bool,
                    resolver: ssrf.Resolver = ssrf.system_resolver) -> tuple[WebhookEndpoint, str]:
    """Register a hook for the principal's partner (or programme-wide for a coordinator); return it and its secret."""
    _check_url(data["url"], allow_loopback, resolver)
    _check_events(principal.is_partner, data["events"])
    if principal.is_partner:
        _check_endpoint_count(session, principal.partner_id)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(partner_id=principal.partner_id if principal.is_partner else None,
                               url=data["url"], events=list(data["events"]), description=data.get("description"),
                               active=data.get("active", True), secret=secret)
    session.add(endpoint)
    session.flush()
    audit.record(session, principal, "webhook", endpoint.id, "create", {}, audit.snapshot(endpoint, AUDIT_FIELDS))
    return endpoint, secret


def update_endpoint(session: Session, principal: Principal, endpoint: WebhookEndpoint, data: dict, *,
                    allow_loopback: bool, resolver: ssrf.Resolver = ssrf.system_resolver) -> WebhookEndpoint:
    before = audit.snapshot(endpoint, AUDIT_FIELDS)
    if "url" in data:
        _check_url(data["url"], allow_loopback, resolver)
    if "events" in data:
        _check_events(endpoint.partner_id is not None, data["events"])
        data = {**data, "events": list(data["events"])}
    if data.get("active") is True and not endpoint.active:
        # Re-enabling starts afresh: the failure clock restarts and the reason no longer holds.
        endpoint.disabled_reason = None
        endpoint.failing_since = None
    for field in ("url", "events", "description", "active"):
        if field in data:
            setattr(endpoint, field, data[field])
    session.flush()
    audit.record(session, principal, "webhook", endpoint.id, "update", before, audit.snapshot(endpoint, AUDIT_FIELDS))
    return endpoint


def delete_endpoint(session: Session, principal: Principal, endpoint: WebhookEndpoint) -> None:
    audit.record(session, principal, "webhook", endpoint.id, "delete", audit.snapshot(endpoint, AUDIT_FIELDS), {})
    session.delete(endpoint)
    session.flush()


def rotate_secret(session: Session, principal: Principal, endpoint: WebhookEndpoint, now: datetime) -> str:
    """Give the hook a new secret; the one it replaces keeps signing too for ``SECRET_GRACE``."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + SECRET_GRACE
    endpoint.secret = signing.new_secret()
    endpoint.touch()
    session.flush()
    audit.record(session, principal, "webhook", endpoint.id, "rotate_secret")
    return endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous during its grace period."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def send_test(session: Session, endpoint: WebhookEndpoint, now: datetime) -> WebhookDelivery:
    """Queue a ``ping`` to this hook alone (whatever it subscribes to)."""
    event = OutboxEvent(type=dispatch.PING, entity_type="webhook", entity_id=endpoint.id,
                        partner_id=endpoint.partner_id, occurred_at=now, dispatched_at=now,
                        payload={"webhook_id": endpoint.id, "message": "A test event from Boardroom."})
    session.add(event)
    session.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, event_type=event.type,
                               payload=dispatch.body_for(event, event.payload), status="pending", attempts=0,
                               next_attempt_at=now, created_at=now)
    session.add(delivery)
    session.flush()
    return delivery


def list_deliveries(endpoint: WebhookEndpoint, args: dict) -> Select:
    stmt = (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            .options(selectinload(WebhookDelivery.attempt_log)))
    if "status" in args:
        stmt = stmt.where(WebhookDelivery.status == args["status"])
    if "updated_since" in args:
        stmt = stmt.where(WebhookDelivery.created_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), DELIVERY_SORTS, default=[WebhookDelivery.created_at.desc()])


def get_delivery(session: Session, endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery:
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                           WebhookDelivery.endpoint_id == endpoint.id))
    if delivery is None:
        raise NotFound("No delivery with that id for this webhook.")
    return delivery


def retry_delivery(session: Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery,
                   now: datetime) -> WebhookDelivery:
    """Queue a delivery for an attempt now, whatever its state (a failed one gets one more try)."""
    if not endpoint.active:
        raise Conflict("This webhook is disabled; re-enable it (PATCH active=true) before retrying.")
    delivery.status = "pending"
    delivery.next_attempt_at = now
    session.flush()
    return delivery


def list_attempts(delivery: WebhookDelivery, args: dict) -> Select:
    """Every attempt of one delivery, oldest first (``sort=-attempted_at`` for newest first)."""
    stmt = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
    if "updated_since" in args:
        stmt = stmt.where(WebhookAttempt.attempted_at >= args["updated_since"])
    return apply_sort(stmt, args.get("sort"), ATTEMPT_SORTS, default=[WebhookAttempt.attempted_at])
