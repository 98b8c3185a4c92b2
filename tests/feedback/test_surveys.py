"""Attendee feedback: survey links, the public form (as a browser without JavaScript sends it), the answers
list, the per-link limit, erasure, and the report's `attendee_feedback` figures."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import problem


@pytest.fixture
def delivered(coordinator, create_trust, create_contact):
    """A delivered booking with two attendees; returns (booking, contacts)."""
    trust = create_trust(name="Feedback Trust")
    chair = create_contact(trust=trust, name="Ceri Jones", email="ceri@example.nhs.uk")
    ned = create_contact(trust=trust, name="Sam  O'Neill", email="sam@example.nhs.uk")
    r = coordinator.post("/api/v1/bookings", json={
        "trust_id": trust.id, "starts_at": "2025-03-05T10:00:00Z", "status": "delivered", "title": "What digital means",
        "attendee_ids": [chair.id, ned.id]})
    assert r.status_code == 201, r.json
    return r.json, (chair, ned)


def make_link(coordinator, booking_id) -> dict:
    r = coordinator.post(f"/api/v1/bookings/{booking_id}/survey")
    assert r.status_code == 201, r.json
    return r.json


def answer(client, token, headers_origin=None, **fields):
    data = {"confidence_before": "2", "confidence_after": "4", "usefulness": "9", "next_step": "", "name": ""}
    data.update({k: str(v) for k, v in fields.items()})
    return client.post(f"/survey/{token}", data=data, headers={"Origin": headers_origin} if headers_origin else {})


def test_coordinator_creates_a_link_whose_form_stores_answers(client, coordinator, viewer, delivered):
    booking, _ = delivered
    link = make_link(coordinator, booking["id"])
    assert link["url"] == f"https://boardroom.test/survey/{link['token']}" and link["token"].startswith("brs_")
    assert link["responses"] == 0

    page = client.get(f"/survey/{link['token']}")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "What digital means" in html
    # Labelled controls: a fieldset and legend per scale, a label for every input, no script needed.
    assert html.count("<fieldset") == 3 and html.count("<legend>") == 3
    for control_id in re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id
    assert "<script" not in html
    assert "'self'" in page.headers["Content-Security-Policy"] and page.headers["Referrer-Policy"] == "no-referrer"

    r = answer(client, link["token"], confidence_before=2, confidence_after=5, usefulness=10,
               next_step="Ask for a digital strategy", name="")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/survey/{link['token']}/thanks")
    thanks = client.get(r.headers["Location"])
    assert thanks.status_code == 200 and "Thank you" in thanks.get_data(as_text=True)

    listed = viewer.get(f"/api/v1/bookings/{booking['id']}/feedback")
    assert listed.status_code == 200
    assert [(x["confidence_before"], x["confidence_after"], x["usefulness"], x["next_step"], x["name"],
             x["contact_id"]) for x in listed.json] == [(2, 5, 10, "Ask for a digital strategy", None, None)]
    assert coordinator.get(f"/api/v1/bookings/{booking['id']}/survey").json["responses"] == 1


def test_a_name_that_matches_an_attendee_ties_the_answer_to_them(client, coordinator, delivered):
    booking, (chair, ned) = delivered
    token = make_link(coordinator, booking["id"])["token"]
    answer(client, token, name="  ceri JONES ")
    answer(client, token, name="sam o'neill")
    answer(client, token, name="Someone Else")
    rows = coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback?sort=created_at").json
    assert sorted((x["name"], x["contact_id"]) for x in rows) == sorted(
        [("ceri JONES", chair.id), ("sam o'neill", ned.id), ("Someone Else", None)])


def test_invalid_answers_re_render_the_form_with_messages_and_store_nothing(client, coordinator, delivered):
    booking, _ = delivered
    token = make_link(coordinator, booking["id"])["token"]
    for data, field, message in [
        ({"confidence_after": "4", "usefulness": "9"}, "confidence_before", "Choose how confident you felt before."),
        ({"confidence_before": "6", "confidence_after": "4", "usefulness": "9"}, "confidence_before", "Choose 1 to 5."),
        ({"confidence_before": "x", "confidence_after": "4", "usefulness": "9"}, "confidence_before", "Choose 1 to 5."),
        ({"confidence_before": "1", "confidence_after": "4", "usefulness": "11"}, "usefulness", "Choose 0 to 10."),
        ({"confidence_before": "1", "confidence_after": "4", "usefulness": "5", "name": "x" * 201}, "name", "under 200"),
        ({"confidence_before": "1", "confidence_after": "4", "usefulness": "5", "next_step": "a\x00b"}, "next_step",
         "unusual characters"),
    ]:
        r = client.post(f"/survey/{token}", data=data)
        assert r.status_code == 422, data
        html = r.get_data(as_text=True)
        assert "There is a problem" in html and message in html, (data, html)
        assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
        # What was given is kept, so the respondent fixes one answer rather than starting again.
        if data.get("confidence_after") == "4":
            assert 'id="confidence_after-4" name="confidence_after" value="4"\n                   checked' in html
    assert coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback").json == []


def test_links_only_for_delivered_bookings_and_coordinators(coordinator, viewer, partner, create_trust):
    trust = create_trust()
    r = coordinator.post("/api/v1/bookings", json={"trust_id": trust.id, "starts_at": "2031-03-05T10:00:00Z",
                                                   "status": "confirmed"})
    confirmed = r.json["id"]
    assert problem(coordinator.post(f"/api/v1/bookings/{confirmed}/survey"))["status"] == 409
    assert viewer.post(f"/api/v1/bookings/{confirmed}/survey").status_code == 403
    assert partner.post(f"/api/v1/bookings/{confirmed}/survey").status_code == 403
    assert partner.get(f"/api/v1/bookings/{confirmed}/feedback").status_code == 403
    missing = "00000000-0000-4000-8000-000000000000"
    assert coordinator.post(f"/api/v1/bookings/{missing}/survey").status_code == 404
    assert coordinator.get(f"/api/v1/bookings/{missing}/feedback").status_code == 404


def test_a_new_link_replaces_the_old_and_delete_revokes(client, coordinator, delivered):
    booking, _ = delivered
    first = make_link(coordinator, booking["id"])
    assert answer(client, first["token"]).status_code == 303
    second = make_link(coordinator, booking["id"])
    assert client.get(f"/survey/{first['token']}").status_code == 404
    assert answer(client, first["token"]).status_code == 404
    assert client.get(f"/survey/{second['token']}").status_code == 200
    current = coordinator.get(f"/api/v1/bookings/{booking['id']}/survey")
    assert current.json["id"] == second["id"]
    assert coordinator.delete(f"/api/v1/bookings/{booking['id']}/survey", etag=None).status_code == 428
    assert coordinator.delete(f"/api/v1/bookings/{booking['id']}/survey",
                              etag=current.headers["ETag"]).status_code == 204
    gone = client.get(f"/survey/{second['token']}")
    assert gone.status_code == 404 and "not valid" in gone.get_data(as_text=True)
    assert coordinator.get(f"/api/v1/bookings/{booking['id']}/survey").status_code == 404
    assert client.get("/survey/brs_unknown").status_code == 404
    # The answer given through the first link stays listed.
    assert len(coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback").json) == 1


def test_a_cross_site_post_is_refused(client, coordinator, delivered):
    booking, _ = delivered
    token = make_link(coordinator, booking["id"])["token"]
    assert client.post(f"/survey/{token}", data={"confidence_before": "1", "confidence_after": "2", "usefulness": "3"},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(f"/survey/{token}", data={"confidence_before": "1", "confidence_after": "2", "usefulness": "3"},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback").json == []
    # The public address (behind a proxy that passes on another Host) and this host are the same site.
    for origin in ("https://boardroom.test", "http://localhost"):
        assert answer(client, token, headers_origin=origin).status_code == 303, origin
    assert len(coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback").json) == 2


def test_feedback_lists_as_csv_with_formula_cells_escaped(client, coordinator, delivered):
    booking, _ = delivered
    token = make_link(coordinator, booking["id"])["token"]
    answer(client, token, next_step="=HYPERLINK(\"x\")", confidence_before=1, confidence_after=3, usefulness=7)
    r = coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0]["next_step"] == "'=HYPERLINK(\"x\")" and rows[0]["usefulness"] == "7"
    assert "X-Pagination" in r.headers


def test_sixty_answers_an_hour_per_link_then_429(client, coordinator, delivered):
    booking, _ = delivered
    token = make_link(coordinator, booking["id"])["token"]
    other = make_link(coordinator, booking["id"])["token"]  # replaces the first link, which stops working
    assert client.post(f"/survey/{other}", data={"usefulness": "3"}).status_code == 422  # errors do not count
    for _ in range(60):
        assert answer(client, other).status_code == 303
    r = answer(client, other)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Too many answers" in r.get_data(as_text=True)
    assert client.get(f"/survey/{other}").status_code == 200  # the form still shows
    assert client.get(f"/survey/{token}").status_code == 404
    assert len(coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback?page_size=100").json) == 60


def test_erasing_a_contact_anonymises_their_answers_and_keeps_the_figures(client, coordinator, delivered):
    booking, (chair, _) = delivered
    token = make_link(coordinator, booking["id"])["token"]
    answer(client, token, name="Ceri Jones", next_step="Ceri Jones will brief the board", confidence_before=1,
           confidence_after=4)
    answer(client, token, name="", next_step="Talk to Ceri Jones about data", confidence_before=3, confidence_after=3)
    export = coordinator.get(f"/api/v1/contacts/{chair.id}/export").json
    assert [x["name"] for x in export["survey_responses"]] == ["Ceri Jones"]
    before = coordinator.get("/api/v1/reports/programme").json["attendee_feedback"]

    assert coordinator.post(f"/api/v1/contacts/{chair.id}/erase").status_code == 200
    rows = coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback?sort=confidence_before").json
    assert [(x["name"], x["contact_id"], x["next_step"]) for x in rows] == [
        (None, None, None), (None, None, "Talk to [erased] about data")]
    assert coordinator.get("/api/v1/reports/programme").json["attendee_feedback"] == before


def test_report_attendee_feedback_section_in_json_and_csv(client, coordinator, viewer, delivered, create_trust):
    booking, _ = delivered
    token = make_link(coordinator, booking["id"])["token"]
    for before, after, useful in [(2, 4, 10), (3, 4, 9), (1, 3, 6), (2, 2, 8)]:
        answer(client, token, confidence_before=before, confidence_after=after, usefulness=useful)
    later = coordinator.post("/api/v1/bookings", json={"trust_id": create_trust().id, "status": "delivered",
                                                       "starts_at": "2025-06-10T10:00:00Z"}).json
    answer(client, make_link(coordinator, later["id"])["token"], confidence_before=5, confidence_after=5,
           usefulness=0)

    march = viewer.get("/api/v1/reports/programme?from=2025-03-01&to=2025-03-31").json["attendee_feedback"]
    # Reference: before 2,3,1,2 -> 2.0; after 4,4,3,2 -> 3.25; change 2,1,2,0 -> 1.25; usefulness 8.25;
    # promoters (9-10) 2 of 4, detractors (0-6) 1 of 4: NPS 25.
    assert march == {"responses": 4, "mean_confidence_before": 2.0, "mean_confidence_after": 3.25,
                     "mean_confidence_change": 1.25, "mean_usefulness": 8.25, "net_promoter_score": 25.0}
    everything = viewer.get("/api/v1/reports/programme").json["attendee_feedback"]
    assert everything["responses"] == 5 and everything["net_promoter_score"] == 0.0  # 2 - 2 of 5
    empty = viewer.get("/api/v1/reports/programme?from=2024-01-01&to=2024-01-31").json["attendee_feedback"]
    assert empty == {"responses": 0, "mean_confidence_before": None, "mean_confidence_after": None,
                     "mean_confidence_change": None, "mean_usefulness": None, "net_promoter_score": None}

    r = viewer.get("/api/v1/reports/programme?from=2025-03-01&to=2025-03-31", headers={"Accept": "text/csv"})
    rows = {(x["metric"]): x["value"] for x in csv.DictReader(io.StringIO(r.get_data(as_text=True)))
            if x["section"] == "attendee_feedback"}
    assert rows == {"responses": "4", "mean_confidence_before": "2.0", "mean_confidence_after": "3.25",
                    "mean_confidence_change": "1.25", "mean_usefulness": "8.25", "net_promoter_score": "25.0"}


def test_an_idempotent_replay_names_the_link_without_its_token(coordinator, delivered):
    booking, _ = delivered
    first = coordinator.post(f"/api/v1/bookings/{booking['id']}/survey", headers={"Idempotency-Key": "survey-1"})
    assert first.status_code == 201 and first.headers["Cache-Control"] == "no-store"
    replay = coordinator.post(f"/api/v1/bookings/{booking['id']}/survey", headers={"Idempotency-Key": "survey-1"})
    assert replay.status_code == 409 and first.json["token"] not in replay.get_data(as_text=True)
    assert first.json["id"] in replay.get_data(as_text=True)
    # Not acted on again: the first link still works.
    assert coordinator.get(f"/api/v1/bookings/{booking['id']}/survey").json["id"] == first.json["id"]


def test_survey_answers_and_links_are_audited_without_the_name(client, coordinator, delivered):
    booking, _ = delivered
    link = make_link(coordinator, booking["id"])
    answer(client, link["token"], name="Ceri Jones")
    response_id = coordinator.get(f"/api/v1/bookings/{booking['id']}/feedback").json[0]["id"]
    events = coordinator.get(f"/api/v1/audit-events?entity_type=survey_response&entity_id={response_id}").json
    assert [e["action"] for e in events] == ["create"]
    assert "Ceri" not in str(events)
    assert coordinator.get(f"/api/v1/audit-events?entity_type=survey_link&entity_id={link['id']}").json[0][
        "action"] == "create"
