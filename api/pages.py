"""Server-rendered HTML pages (the survey form, the dashboard): Jinja templates answered with headers that
allow only the app's own files (Content-Security-Policy), keep secrets in URLs out of referrers, forbid
framing, and keep pages out of caches."""

from __future__ import annotations

from flask import Response, render_template

# Only the app's own scripts, styles, images and API; no inline code, no framing, forms post back here.
CSP_SELF = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def html(template: str, status: int = 200, **context) -> Response:
    """A rendered page with Boardroom's page headers."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP_SELF
    response.headers["Referrer-Policy"] = "no-referrer"  # a survey URL is a secret: never send it onwards
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
