"""Webhook endpoints: register, manage, rotate secrets, test, and inspect deliveries."""

from __future__ import annotations

from flask import current_app, g, url_for
from flask.views import MethodView

from api.auth import ALL_ROLES
from api.db import utcnow
from api.extensions import Session
from api.web import (
    Blueprint,
    conditional,
    etag_of,
    no_store,
    paginate,
    readable,
    require_if_match,
    write_guarded,
)
from api.webhooks import service
from api.webhooks.schemas import (
    AttemptListArgs,
    AttemptSchema,
    DeliveryListArgs,
    DeliverySchema,
    NewWebhookSchema,
    WebhookListArgs,
    WebhookPatchSchema,
    WebhookSchema,
)
from api.webhooks.worker import allow_loopback_targets

WRITERS = ("coordinator", "partner")

blp = Blueprint(
    "webhooks", __name__, url_prefix="/api/v1/webhooks",
    description="Signed event notifications (Standard Webhooks). Partners manage their own hooks and hear only "
                "about their own bookings; coordinators may register programme-wide hooks that hear every event. "
                "The payload of each event type and the signature headers are described under `webhooks` in this "
                "document.")

EXAMPLE = {"url": "https://partner.example.org/boardroom/webhooks",
           "events": ["booking.created", "booking.status_changed", "booking.cancelled"],
           "description": "Booking sync for our CRM"}


def _allow_loopback() -> bool:
    return allow_loopback_targets(current_app)


@blp.route("")
class Webhooks(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(WebhookListArgs, location="query", as_kwargs=True)
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters, **args):
        """List webhooks

        A partner sees its own hooks; coordinators and viewers see every hook. Secrets are never listed.
        """
        return paginate(Session(), service.list_endpoints(g.principal, args), pagination_parameters)

    @no_store
    @blp.access(*WRITERS)
    @blp.arguments(WebhookSchema, example=EXAMPLE)
    @blp.response(201, NewWebhookSchema, headers={"Location": {"description": "URL of the new webhook",
                                                               "schema": {"type": "string"}}})
    @blp.errors(409)
    def post(self, data):
        """Register a webhook

        The `secret` (`whsec_` + base64) is in this response only: keep it to verify signatures. A replay of the
        same `Idempotency-Key` answers 409 naming the created id. The `url` must be https to a public address.
        A partner's hook hears only about its own bookings; a coordinator's hook is programme-wide.
        """
        endpoint, _secret = service.create_endpoint(Session(), g.principal, data, allow_loopback=_allow_loopback())
        g.response_holds_secret = endpoint.id
        # NewWebhookSchema shows `secret`, which is the one just made; no other view shows it.
        return (endpoint, 201,
                {"ETag": etag_of(endpoint), "Location": url_for("webhooks.WebhookById", webhook_id=endpoint.id)})


@blp.route("/<uuid:webhook_id>")
class WebhookById(MethodView):
    @blp.access(*ALL_ROLES)
    @readable(blp)
    @blp.response(200, WebhookSchema)
    @blp.errors(404)
    def get(self, webhook_id):
        """Get a webhook

        Shows whether it is active and, if Boardroom disabled it, why (`disabled_reason`).
        """
        endpoint = service.get_endpoint(Session(), g.principal, str(webhook_id))
        return conditional(etag_of(endpoint), endpoint)

    @blp.access(*WRITERS)
    @write_guarded(blp)
    @blp.arguments(WebhookPatchSchema, example={"active": True})
    @blp.response(200, WebhookSchema)
    @blp.errors(404)
    def patch(self, data, webhook_id):
        """Update a webhook

        Change `url`, `events`, `description` or `active`. Setting `active` to true re-enables a hook that
        Boardroom disabled and clears `disabled_reason`; deliveries that were waiting resume.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        require_if_match(etag_of(endpoint))
        endpoint = service.update_endpoint(session, g.principal, endpoint, data, allow_loopback=_allow_loopback())
        return endpoint, 200, {"ETag": etag_of(endpoint)}

    @blp.access(*WRITERS)
    @write_guarded(blp)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, webhook_id):
        """Delete a webhook

        Deliveries still waiting are dropped with it.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        require_if_match(etag_of(endpoint))
        service.delete_endpoint(session, g.principal, endpoint)


@blp.route("/<uuid:webhook_id>/rotate-secret")
class RotateSecret(MethodView):
    @no_store
    @blp.access(*WRITERS)
    @blp.response(200, NewWebhookSchema)
    @blp.errors(404, 409)
    def post(self, webhook_id):
        """Rotate a webhook's signing secret

        The new `secret` is in this response only. For the next 24 hours (`previous_secret_expires_at`) every
        delivery carries two signatures in `webhook-signature`, one per secret, so your receiver can switch
        over without losing events. A replay of the same `Idempotency-Key` answers 409.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        service.rotate_secret(session, g.principal, endpoint, utcnow())
        g.response_holds_secret = endpoint.id
        return endpoint, 200, {"ETag": etag_of(endpoint)}


@blp.route("/<uuid:webhook_id>/test")
class TestWebhook(MethodView):
    @blp.access(*WRITERS)
    @blp.response(202, DeliverySchema)
    @blp.errors(404)
    def post(self, webhook_id):
        """Send a test event

        Queues a `ping` event to this webhook only (whatever it subscribes to, even while paused it waits).
        Follow it in the webhook's deliveries.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        return service.send_test(session, endpoint, utcnow())


@blp.route("/<uuid:webhook_id>/deliveries")
class Deliveries(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(DeliveryListArgs, location="query", as_kwargs=True)
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate()
    @blp.errors(404)
    def get(self, webhook_id, pagination_parameters, **args):
        """List a webhook's deliveries

        Newest first, each with every attempt (time, HTTP status, duration, error). `updated_since` filters on
        `created_at`.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        return paginate(session, service.list_deliveries(endpoint, args), pagination_parameters)


@blp.route("/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/retry")
class RetryDelivery(MethodView):
    @blp.access(*WRITERS)
    @blp.response(202, DeliverySchema)
    @blp.errors(404, 409)
    def post(self, webhook_id, delivery_id):
        """Retry a delivery now

        Queues the delivery for an attempt at once, with the same `webhook-id` and body. A delivery that had given
        up (`failed`) gets one more attempt. 409 while the webhook is disabled.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        delivery = service.get_delivery(session, endpoint, str(delivery_id))
        return service.retry_delivery(session, endpoint, delivery, utcnow())


@blp.route("/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/attempts")
class DeliveryAttempts(MethodView):
    @blp.access(*ALL_ROLES)
    @blp.arguments(AttemptListArgs, location="query", as_kwargs=True)
    @blp.response(200, AttemptSchema(many=True))
    @blp.paginate()
    @blp.errors(404)
    def get(self, webhook_id, delivery_id, pagination_parameters, **args):
        """List every attempt of a delivery

        Oldest first: when it was made (`attempted_at`), the HTTP status the receiver answered (null when no
        answer came: a timeout, a refused connection, a refused address), how long it took (`duration_ms`) and
        the error (null on success). `updated_since` filters on `attempted_at`. Another partner's webhook is 404.
        """
        session = Session()
        endpoint = service.get_endpoint(session, g.principal, str(webhook_id))
        delivery = service.get_delivery(session, endpoint, str(delivery_id))
        return paginate(session, service.list_attempts(delivery, args), pagination_parameters)
