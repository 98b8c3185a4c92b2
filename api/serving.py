"""How the app meets the network: proxies, CORS, caching of secrets, and absolute URLs.

- ``BOARDROOM_TRUSTED_PROXIES`` (default 0): how many reverse proxies in front set
  ``X-Forwarded-For``; only then is the client address taken from it (rate limits per address).
  ``X-Forwarded-Host`` is never trusted.
- ``BOARDROOM_CORS_ORIGINS``: browser tools on these origins may call ``/api/v1`` (flask-cors);
  preflights are answered and ``ETag``, ``Link``, ``X-Pagination``, ``RateLimit*``, ``Retry-After``
  and ``X-Request-Id`` are exposed. Other origins get no CORS headers at all.
- A view marked ``@no_store`` (secrets, personal-data exports) answers ``Cache-Control: no-store``.
- Absolute URLs (feed addresses) come from ``api.web.base_url``, never from the request's ``Host``.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

EXPOSED_HEADERS = ["ETag", "Link", "X-Pagination", "RateLimit-Policy", "RateLimit", "Retry-After", "X-Request-Id",
                   "Location", "Idempotent-Replayed"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-Id",
                   "Accept"]


def init_app(app: Flask, view_handler) -> None:
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=0, x_host=0, x_port=0, x_prefix=0)
    if app.config.get("CORS_ORIGINS"):
        CORS(app, resources={r"/api/v1/*": {"origins": app.config["CORS_ORIGINS"]}},
             expose_headers=EXPOSED_HEADERS, allow_headers=ALLOWED_HEADERS,
             methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], max_age=600, supports_credentials=False,
             vary_header=True)

    @app.after_request
    def _no_store(response: Response) -> Response:
        if getattr(view_handler(app), "_no_store", False):
            response.headers["Cache-Control"] = "no-store"
        return response
