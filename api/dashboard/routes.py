"""``/dashboard`` and its assets (public: the data comes from the API, with the coordinator's token)."""

from __future__ import annotations

from flask import Blueprint

from api.pages import html

blp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
                static_folder="static", static_url_path="/assets")


@blp.route("", strict_slashes=False)
def page():
    """The dashboard page; its script asks for a token and fetches the figures from the API."""
    return html("dashboard/index.html")
