"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``."""

import sys

from api import create_app
from api.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One clear line, not a traceback; exit status 3 is gunicorn's "worker failed to boot" (it stops).
    print(f"boardroom: configuration error: {error}", file=sys.stderr)
    sys.exit(3)
