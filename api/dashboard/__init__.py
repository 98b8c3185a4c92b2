"""The coordinators' dashboard at ``/dashboard``: one server-rendered page whose script (``static/dashboard.js``)
asks for a token once (kept in ``sessionStorage``), reads ``GET /api/v1/reports/programme`` and the next steps,
and draws them with Chart.js, which the app serves itself (``static/vendor/chartjs``; see its VERSION), so the
page works offline. Every chart has a table with the same numbers beside it."""
