"""Programme reports (coordinators and viewers), as JSON or long-format CSV."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from api.auth import READERS
from api.csv_output import csv_response, documents_csv, wants_csv
from api.derived import stores_on_read
from api.extensions import Session
from api.reports import service
from api.reports.schemas import ProgrammeReportSchema, ReportArgs
from api.web import Blueprint

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Programme figures: bookings, coverage of trusts, monthly sessions, themes, confidence.")


@blp.route("/programme")
class ProgrammeReport(MethodView):
    @stores_on_read  # months rebuilt for this report keep their roll-ups
    @blp.access(*READERS)
    @blp.arguments(ReportArgs, location="query", as_kwargs=True)
    @blp.response(200, ProgrammeReportSchema)
    @documents_csv(blp, "Long format, one figure per row: `section,key,metric,value`.")
    def get(self, start=None, end=None):
        """Programme report

        Bookings starting between `from` and `to` (Europe/London dates, both inclusive; default the whole
        history). Coverage counts trusts that are not archived; a trust is engaged when it had a delivered
        session in the period. Months are Europe/London months. `Accept: text/csv` answers long-format CSV.
        """
        session = Session()
        report = service.programme(session, start, end)
        if wants_csv():
            return csv_response(service.programme_rows(report), ["section", "key", "metric", "value"],
                                filename="programme-report.csv")
        # The figures are plain JSON values already (the tests compare this with ProgrammeReportSchema's dump
        # for many ranges): serialised directly, not walked field by field for hundreds of speakers.
        return current_app.json.response(service.as_json(report))
