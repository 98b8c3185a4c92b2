"""gunicorn settings every `gunicorn ... wsgi:app` run from the repository root reads (make run, the README's
production command, the test and fuzz servers).

gunicorn refuses a request line over 4 KiB with an HTML 414 page, before the app sees it; the API's
errors are problem+json. With no gunicorn limit (it still stops reading a request line at 1 MiB), a long
query string reaches the app, which answers it as any other (422 for what its parameters do not take).
"""

limit_request_line = 0
