"""The public survey form at ``/survey/{token}``: server-rendered, works without JavaScript.

No account and no cookie: the secret URL is the only credential, so there is no session for a cross-site
request to ride on (a CSRF token would guard nothing the URL does not). A POST that a browser marks as coming
from another site (``Sec-Fetch-Site: cross-site``, or an ``Origin`` naming another host) is refused all the
same, so no other page can post answers through a visitor's browser. Answers are limited per link (flask-limiter,
``SURVEY_RATE_LIMIT``, keyed by a hash of the token; see ``api.ratelimit.limit_surveys``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from flask import Blueprint, redirect, request, url_for

from api.errors import NotFound
from api.extensions import Session
from api.feedback import service
from api.feedback.schemas import NAME_MAX, NEXT_STEP_MAX, SurveyFormSchema
from api.pages import html
from api.web import base_url

blp = Blueprint("survey", __name__, url_prefix="/survey", template_folder="templates",
                static_folder="static", static_url_path="/assets")

FORM = SurveyFormSchema()
FIELDS = ("confidence_before", "confidence_after", "usefulness", "next_step", "name")


def _form(token: str, title: str, status: int = 200, values: dict | None = None, errors: dict | None = None):
    return html("survey/form.html", status, token=token, title=title, values=values or {}, errors=errors or {},
                fields=FIELDS, name_max=NAME_MAX, next_step_max=NEXT_STEP_MAX)


def _not_found():
    return html("survey/message.html", 404, heading="This survey link is not valid",
                text="The link may have been mistyped, replaced by a newer one, or withdrawn. "
                     "Ask the programme team for the current link.")


def _cross_site() -> bool:
    """A POST a browser says another site sent. ``Origin`` may name this host as the client reached it or as
    ``PUBLIC_BASE_URL`` does (a reverse proxy may pass on another ``Host``)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    return urlsplit(origin).netloc not in {request.host, urlsplit(base_url()).netloc}


@blp.route("/<string:token>", methods=["GET", "POST"])
def form(token: str):
    """The survey form; a POST stores one answer and moves on to the thank-you page (303)."""
    session = Session()
    try:
        link = service.link_by_token(session, token)
    except NotFound:
        return _not_found()
    title = service.booking_title(session, link)
    if request.method == "GET":
        return _form(token, title)
    if _cross_site():
        return html("survey/message.html", 403, heading="Answer from the survey page",
                    text="Answers are accepted only from the survey page itself. Open the link you were sent.")
    values = {k: v for k, v in request.form.items() if k in FIELDS}
    try:
        answers = FORM.load(values)
    except ma.ValidationError as exc:
        errors = {k: v[0] if isinstance(v, list) else str(v) for k, v in exc.messages.items()}
        return _form(token, title, 422, values, errors)
    service.submit(session, link, answers)
    return redirect(url_for("survey.thanks", token=token), code=303)


@blp.route("/<string:token>/thanks")
def thanks(token: str):
    """The thank-you page shown after an answer."""
    try:
        service.link_by_token(Session(), token)
    except NotFound:
        return _not_found()
    return html("survey/message.html", heading="Thank you",
                text="Your answers have been recorded. They help the programme team see what changed for "
                     "your board. You can close this page.")


@blp.errorhandler(400)
def _bad_request(_error):
    return html("survey/message.html", 400, heading="That did not work",
                text="The answers could not be read. Go back to the survey link and try again.")


@blp.errorhandler(413)
def _too_large(_error):
    return html("survey/message.html", 413, heading="That answer is too long",
                text="Shorten your answers and send them again.")


@blp.errorhandler(429)
def _too_many(error):
    response = html("survey/message.html", 429, heading="Too many answers for now",
                    text="This survey link has taken as many answers as it can in an hour. Try again later.")
    retry = getattr(error, "retry_after", None) or 3600
    response.headers["Retry-After"] = str(retry)
    return response
