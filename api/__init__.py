"""Boardroom: the CRM and scheduling API behind a board development programme."""

from __future__ import annotations

import json
import logging
import os

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from api import config as config_module
from api import idempotency, observability, ratelimit, serving
from api.auth import Principal, authenticate, authorise
from api.db import autocommit_reads, autocommit_until_write, end_read, make_engine, read_only_transaction
from api.errors import ProblemError, Unauthorized, internal_error, problem_response, render_http_exception, render_problem
from api.extensions import Session, api
from api.logsafe import redact_path
from api.web import PUBLIC, SAFE_METHODS, buffer_chunked_body, require_json_body

log = logging.getLogger("boardroom")

# Endpoints that belong to flask-smorest's docs blueprint or Flask itself, and need no token.
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets", "static",
                    "survey.form", "survey.thanks", "survey.static", "dashboard.page", "dashboard.static"}


def create_app(config: dict | None = None) -> Flask:
    """The one place the app is assembled."""
    app = Flask(__name__, instance_path=os.environ.get("BOARDROOM_INSTANCE_PATH") or None,
                instance_relative_config=True, static_folder=None)
    app.config.update(config_module.load(app.instance_path, config))
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    os.makedirs(app.instance_path, exist_ok=True)
    _configure_docs(app)

    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    Session.configure(bind=engine)
    from api.calendar.service import FeedBodies
    if app.config["FEED_CACHE_MB"]:
        app.extensions["feed_bodies"] = FeedBodies(app.config["FEED_CACHE_MB"] * 1024 * 1024)

    from api.openapi import init_spec
    api.init_app(app, spec_kwargs=init_spec())
    from api.openapi import register_components
    register_components(api.spec)
    from api.webhooks.schemas import register_openapi as register_webhooks
    register_webhooks(api.spec)  # the document's `webhooks` section
    api.handle_http_exception = _handle_http_exception  # problem+json for every HTTP error
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(ProblemError, _handle_problem)
    app.register_error_handler(StaleDataError, _handle_stale)
    app.register_error_handler(IntegrityError, _handle_integrity)
    app.register_error_handler(OperationalError, _handle_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)

    from api import derived_map
    derived_map.install()  # what is stored for reads, and what it depends on: one map, one set of session hooks
    from api.bookings.service import delivered_booking_exists
    from api.reports.service import engagement
    from api.trusts.service import register_engagement
    register_engagement(engagement, delivered_booking_exists)  # what a trust shows about its bookings
    from api.bookings.service import register_scheduling
    from api.scheduling import conflicts, service as scheduling_service
    from api.speakers.service import register_availability
    register_scheduling(conflicts.lock, conflicts.find_conflicts, conflicts.trust_overlap)  # booking writes check conflicts
    from api.bookings.service import register_seats_added
    from api.registrations.service import fill_new_seats
    register_seats_added(fill_new_seats)  # a class's new seats go to its waiting list
    register_availability(scheduling_service.available_speaker_ids)  # the speakers list's available_* filter
    observability.init_app(app)  # first: request ids and timing wrap everything below
    api_blueprints, feed_blueprint = _register_blueprints(app)
    from api.openapi import add_links
    add_links(api.spec)
    limiter = ratelimit.init_limiter(app, _rate_identity, api_blueprints, feed_blueprint)  # checks before auth hooks
    from api.feedback.pages import blp as survey_pages
    ratelimit.limit_surveys(limiter, app, survey_pages)  # answers per survey link
    _register_request_hooks(app)
    serving.init_app(app, _view_handler)

    from api.webhooks.metrics import WebhookCollector
    observability.register_collector(app, WebhookCollector())
    from api.mail.setup import init_app as init_mail
    init_mail(app, observability.register_collector)  # invitation emails: queued on booking writes, sent by the worker

    from api.cli import register_commands
    register_commands(app)
    return app


def _configure_docs(app: Flask) -> None:
    import swagger_ui_bundle

    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "/docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/docs/assets/")
    from flask import send_from_directory

    def docs_assets(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    app.add_url_rule("/docs/assets/<path:filename>", endpoint="docs_assets", view_func=docs_assets)


def _register_blueprints(app: Flask) -> tuple[list, object]:
    """Register every blueprint; return the rate-limited ``/api/v1`` ones and the feed files' one."""
    from api.accounts.routes import partners_blp, tokens_blp
    from api.audit.routes import audit_blp
    from api.bookings.routes import blp as bookings_blp
    from api.calendar.routes import feed_files_blp, feeds_blp, invites_blp
    from api.change_requests.routes import blp as change_requests_blp
    from api.health.routes import blp as health_blp
    from api.interactions.routes import blp as interactions_blp
    from api.mail.routes import blp as messages_blp
    from api.observability import metrics_blp
    from api.outcomes.routes import blp as outcomes_blp
    from api.privacy.routes import blp as privacy_blp
    from api.registrations.routes import blp as registrations_blp
    from api.reports.routes import blp as reports_blp
    from api.scheduling.routes import blp as scheduling_blp
    from api.speakers.routes import blp as speakers_blp
    from api.timeline.routes import blp as timeline_blp
    from api.topics.routes import blp as topics_blp
    from api.trusts.routes import blp as trusts_blp
    from api.webhooks.routes import blp as webhooks_blp
    from api.dashboard.routes import blp as dashboard_blp
    from api.feedback.pages import blp as survey_pages
    from api.feedback.routes import blp as feedback_blp

    api_blueprints = [trusts_blp, topics_blp, speakers_blp, partners_blp, tokens_blp, bookings_blp,
                      scheduling_blp, outcomes_blp, feeds_blp, invites_blp, webhooks_blp, reports_blp,
                      interactions_blp, privacy_blp, audit_blp, feedback_blp,
                      timeline_blp, registrations_blp, messages_blp,
                      change_requests_blp]
    for blp in (health_blp, metrics_blp, feed_files_blp, *api_blueprints):
        api.register_blueprint(blp)
    for page_blp in (survey_pages, dashboard_blp):  # HTML pages, not API operations: not in the document
        app.register_blueprint(page_blp)
    return api_blueprints, feed_files_blp


def _view_handler(app: Flask):
    """The function serving this request (a MethodView's method, or a plain view), or None."""
    view = app.view_functions.get(request.endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        return getattr(view_class, "get" if method == "head" else method, None)
    return view


def _view_access(app: Flask) -> tuple[str, ...] | None:
    """The roles a view declared with ``@blp.access`` (None: nothing declared, so denied)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return (PUBLIC,)
    return getattr(_view_handler(app), "_access", None)


def _prepare_session() -> None:
    """Once per request, before the first statement: reads marked ``autocommit_reads`` skip BEGIN/ROLLBACK."""
    if g.get("session_prepared"):
        return
    g.session_prepared = True
    if request.method in SAFE_METHODS:
        view = _view_handler(current_app)
        if getattr(view, "_autocommit_reads", False):
            autocommit_reads(Session())  # before the token lookup: no BEGIN/ROLLBACK round trips at all
        elif not getattr(view, "_stores_on_read", None):
            read_only_transaction(Session())  # PostgreSQL: ended by COMMIT, keeping prepared statements
    else:
        autocommit_until_write(Session())  # SQLite: the token lookup needs no BEGIN before BEGIN IMMEDIATE


def _bearer_principal() -> Principal:
    """The request's bearer token as a principal, looked up once per request (raises 401)."""
    if "bearer" not in g:
        _prepare_session()
        try:
            g.bearer = authenticate(Session(), request.headers.get("Authorization"))
        except Unauthorized as error:
            g.bearer = error
    if isinstance(g.bearer, Unauthorized):
        raise g.bearer
    return g.bearer


def _rate_identity() -> str:
    """Whose counter a request draws on: its valid token's, else its client address's."""
    try:
        return f"token:{_bearer_principal().token_id}"
    except Unauthorized:
        return f"addr:{request.remote_addr or 'unknown'}"


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _bound_body():
        buffer_chunked_body(request.environ, app.config["MAX_CONTENT_LENGTH"])

    @app.before_request
    def _authenticate_and_claim():
        g.idempotency = g.idempotent_work = None
        if request.routing_exception is not None or request.method == "OPTIONS":
            return None
        roles = _view_access(app)
        if roles is None:
            log.error("endpoint %s declares no access rule; refused", request.endpoint)
            return problem_response(403, detail="This endpoint is not open to any role.", slug="forbidden")
        _prepare_session()
        if roles == (PUBLIC,):
            g.principal = None
        else:
            g.principal = _bearer_principal()
            authorise(g.principal, roles)
        if request.path.startswith("/api/v1/"):
            require_json_body()
        if request.method not in SAFE_METHODS:
            request.get_data(cache=True)  # the whole body first: never wait on a client while holding the write lock
            _begin_write()
        if g.principal is not None and request.method == "POST" and "Idempotency-Key" in request.headers:
            return _claim_idempotency_key()
        return None

    @app.after_request
    def _commit(response: Response) -> Response:
        commit_read = None
        if request.method in SAFE_METHODS and response.status_code < 400:
            commit_read = getattr(_view_handler(app), "_stores_on_read", None)  # api.derived.stores_on_read
        if request.method in SAFE_METHODS and not commit_read:
            end_read(Session())
            return response
        if commit_read == "best-effort":
            # A cache fill during a read (stored renderings, report roll-ups): never fail the read for it.
            try:
                Session.commit()
            except Exception:  # noqa: BLE001
                Session.rollback()
                log.warning("best-effort commit during %s %s failed", request.method, redact_path(request.path))
            return response
        claim = g.get("idempotency")
        try:
            if claim is not None and response.status_code < 500 and response.status_code not in (400, 422):
                if response.status_code >= 400:
                    _rollback_work()  # the work failed; keep only the answer (and the key's lock)
                _store_idempotent_response(claim, response)
            if response.status_code < 400 or claim is not None and response.status_code not in (400, 422):
                Session.commit()
            else:
                Session.rollback()
        except StaleDataError:
            Session.rollback()
            return _handle_stale(None)
        except IntegrityError as exc:
            Session.rollback()
            return _handle_integrity(exc)
        except OperationalError:
            Session.rollback()
            log.exception("commit failed")
            return problem_response(503, detail="The database is busy; retry shortly.", slug="unavailable",
                                    headers={"Retry-After": "1"})
        return response

    @app.teardown_appcontext
    def _remove_session(_exc):
        Session.remove()


def _begin_write() -> None:
    """Start the request's write transaction once the caller is known to be allowed to write.

    On SQLite it begins with BEGIN IMMEDIATE, so concurrent writers queue for the lock rather than
    failing half-way; taking it only after authorisation keeps callers without a token from
    making real writers wait.
    """
    session = Session()
    if session.in_transaction():
        if session.get_bind().dialect.name != "sqlite" or session.in_nested_transaction():
            return
        session.commit()  # ends the token lookup (autocommit: nothing to end but the session's hold on the connection)
    Session.connection(execution_options={"sqlite_immediate": True})


def _claim_idempotency_key():
    key = request.headers["Idempotency-Key"]
    idempotency.validate_key(key)
    claim = idempotency.Claim(principal_id=g.principal.token_id, route=f"POST {request.path}", key=key,
                              fingerprint=idempotency.fingerprint(request.get_data(cache=True)))
    stored = idempotency.begin(Session(), claim)
    if stored is None:
        g.idempotency = claim
        g.idempotent_work = Session().begin_nested()
        return None
    g.idempotency = None
    response = Response(stored.body, status=stored.status_code)
    for name, value in json.loads(stored.headers).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _store_idempotent_response(claim: idempotency.Claim, response: Response) -> None:
    from flask import current_app

    created_id = None
    if getattr(g, "response_holds_secret", False):
        created_id = g.response_holds_secret
    idempotency.store(Session(), claim, status_code=response.status_code,
                      body=response.get_data(as_text=True), headers=dict(response.headers),
                      ttl_hours=current_app.config["IDEMPOTENCY_TTL_HOURS"], created_id=created_id)


def _rollback_work() -> None:
    """Undo the request's work; under an Idempotency-Key only back to the savepoint after the claim.

    The claim (an advisory lock on PostgreSQL) must outlive a failed attempt until the answer is
    stored, or a concurrent retry with the same key could slip in between.
    """
    work = g.get("idempotent_work")
    if work is None:
        Session.rollback()
    elif work.is_active:
        work.rollback()


def _handle_problem(error: ProblemError):
    _rollback_work()
    return render_problem(error)


def _handle_http_exception(error: HTTPException):
    _rollback_work()
    return render_http_exception(error)


def _handle_stale(_error):
    _rollback_work()
    return problem_response(412, detail="The resource changed while you were updating it; GET it again.",
                            slug="precondition-failed", title="The resource has changed (stale If-Match)")


def _handle_integrity(error: IntegrityError):
    _rollback_work()
    log.warning("integrity error: %s", error.orig.__class__.__name__)
    return problem_response(409, detail="The change conflicts with existing data (a duplicate or a reference "
                            "that no longer holds).", slug="conflict")


def _handle_unavailable(_error: OperationalError):
    # The database is unreachable, restarting, or (SQLite) locked for longer than the busy timeout.
    Session.rollback()
    log.warning("database unavailable during %s %s", request.method, redact_path(request.path))
    return problem_response(503, detail="The database is busy or unavailable; retry shortly.", slug="unavailable",
                            headers={"Retry-After": "1"})


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http_exception(error)
    Session.rollback()
    log.exception("unhandled error on %s %s", request.method, redact_path(request.path))
    return internal_error()
