"""CSV answers are safe to open in a spreadsheet: formula-like text is prefixed with ', numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from api.csv_output import cell

DANGEROUS = ["=HYPERLINK(\"https://evil.example\",\"Click\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
             "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def _rows(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_text_in_a_trust_list_is_prefixed(coordinator, text):
    r = coordinator.post("/api/v1/trusts", json={"name": text, "ods_code": "RR8", "region": "london",
                                                 "ics": text, "notes": text})
    assert r.status_code == 201, r.json
    assert r.json["name"] == text  # stored and shown in JSON as sent
    [row] = _rows(coordinator.get("/api/v1/trusts", headers={"Accept": "text/csv"}))
    for column in ("name", "ics", "notes"):
        assert row[column] == "'" + text, column
    assert row["ods_code"] == "RR8" and row["region"] == "london"


def test_plain_text_and_numbers_are_not_prefixed():
    assert cell("Leeds Teaching Hospitals") == "Leeds Teaching Hospitals"
    assert cell("a=b") == "a=b" and cell("O'Neil") == "O'Neil"
    assert cell(-1.5) == -1.5 and cell(-3) == -3 and cell(0) == 0
    assert cell(True) == "true" and cell(None) == ""
    assert cell(["=x"]) == '["=x"]'
    assert cell("-") == "'-" and cell("+44 20 7946 0000") == "'+44 20 7946 0000"


def test_report_csv_keeps_negative_numbers_and_prefixes_names(coordinator, seeded_topics, create_trust,
                                                             create_booking, create_speaker, db):
    from api.bookings.models import BookingSpeaker

    booking = create_booking(trust=create_trust(), starts_at=datetime(2025, 3, 5, 10, tzinfo=timezone.utc))
    speaker_id = create_speaker(name="=HYPERLINK(\"https://evil.example\")").id
    db().add(BookingSpeaker(booking_id=booking.id, speaker_id=speaker_id, starts_at=booking.starts_at,
                            ends_at=booking.starts_at + timedelta(hours=3)))
    db().commit()
    r = coordinator.put(f"/api/v1/bookings/{booking.id}/outcome",
                        json={"confidence_before": 4, "confidence_after": 2})
    assert r.status_code in (200, 201), r.json
    rows = _rows(coordinator.get("/api/v1/reports/programme", headers={"Accept": "text/csv"}))
    values = {(row["section"], row["metric"]): row["value"] for row in rows}
    assert values[("confidence", "mean_change")] == "-2.0"
    assert values[("sessions_by_speaker", "name")] == "'=HYPERLINK(\"https://evil.example\")"
