"""Tried as a new user would, in Chromium: a coordinator creates a survey link for a delivered session, three
board members answer it with the keyboard alone, and the feedback list, the report and the dashboard show
their confidence change; the dashboard's numbers equal GET /reports/programme."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import screenshot

# (name, confidence before, after, usefulness, what next)
MEMBERS = [("Ceri Jones", 2, 4, 9, "Ask the executive for a one-page digital strategy"),
           ("Sam Patel", 1, 4, 10, "Sponsor the patient portal business case"),
           ("Alex Morgan", 3, 4, 6, "Read the board's data quality report first")]


@pytest.fixture(scope="module")
def programme(server):
    """A delivered session with three attendees, an outcome (themes, next steps) and a survey link."""
    token = server.token()
    with server.client(token) as api:
        for slug, name in (("data", "Data"), ("prioritisation", "Prioritisation and stopping work")):
            api.post("/api/v1/topics", json={"slug": slug, "name": name})
        trust = api.post("/api/v1/trusts", json={"name": "Northshire Hospitals NHS Foundation Trust", "ods_code": "RX9",
                                                 "region": "north_west", "trust_type": "acute"}).json()
        api.post("/api/v1/trusts", json={"name": "Southshire Community NHS Trust", "ods_code": "RY9",
                                         "region": "london", "trust_type": "community"})
        contacts = [api.post(f"/api/v1/trusts/{trust['id']}/contacts", json={"name": name, "role": "Non-executive Director"}
                             ).json()["id"] for name, *_ in MEMBERS]
        booking = api.post("/api/v1/bookings", json={
            "trust_id": trust["id"], "starts_at": "2025-03-05T10:00:00Z", "status": "delivered",
            "title": "What digital means for our board", "attendee_ids": contacts}).json()
        today = date.today()
        r = api.put(f"/api/v1/bookings/{booking['id']}/outcome", json={
            "summary": "Good discussion.", "themes": ["data", "prioritisation"], "confidence_before": 2,
            "confidence_after": 4, "next_steps": [
                {"description": "Agree a digital strategy owner", "due_on": (today - timedelta(days=10)).isoformat()},
                {"description": "Schedule a follow-up", "due_on": (today + timedelta(days=30)).isoformat()},
                {"description": "Circulate the slides", "done": True}]})
        assert r.status_code == 200, r.text
        link = api.post(f"/api/v1/bookings/{booking['id']}/survey")
        assert link.status_code == 201, link.text
    return {"token": token, "booking": booking, "contacts": contacts, "survey_url": link.json()["url"]}


def _choose(page, field: str, value: int, lowest: int) -> None:
    """On a focused radio group: Space picks the first option, each Right arrow the next one."""
    assert page.evaluate("document.activeElement.name") == field
    page.keyboard.press("Space")
    for _ in range(value - lowest):
        page.keyboard.press("ArrowRight")
    assert page.evaluate(f"document.querySelector('input[name={field}]:checked').value") == str(value)


def test_three_board_members_answer_with_the_keyboard(server, programme, page):
    assert programme["survey_url"].startswith(server.url + "/survey/brs_")
    for name, before, after, useful, next_step in MEMBERS:
        page.goto(programme["survey_url"])
        assert page.get_by_role("group", name="Before the session, how confident did you feel leading digital "
                                              "change on your board?").is_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the questions"
        page.keyboard.press("Tab")
        _choose(page, "confidence_before", before, 1)
        page.keyboard.press("Tab")
        _choose(page, "confidence_after", after, 1)
        page.keyboard.press("Tab")
        _choose(page, "usefulness", useful, 0)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "next_step"
        page.keyboard.type(next_step)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "name"
        page.keyboard.type(name)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "BUTTON"
        page.keyboard.press("Enter")
        page.wait_for_url("**/thanks")
        assert page.get_by_role("heading", level=1).text_content() == "Thank you"
    screenshot(page, "survey-thanks.png")
    assert page.console_errors == []  # no CSP violation, no failed asset
    # A form sent with an answer missing comes back with the message next to the question, focusable by link.
    page.goto(programme["survey_url"])
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("alert").is_visible()
    assert "Choose how confident you felt before." in page.get_by_role("alert").text_content()
    assert page.locator("#confidence_before").get_attribute("aria-invalid") == "true"
    screenshot(page, "survey-errors.png")

    with server.client(programme["token"]) as api:
        rows = api.get(f"/api/v1/bookings/{programme['booking']['id']}/feedback").json()
        report = api.get("/api/v1/reports/programme").json()["attendee_feedback"]
    assert sorted((r["name"], r["contact_id"], r["confidence_before"], r["confidence_after"], r["usefulness"],
                   r["next_step"]) for r in rows) == sorted(
        (name, contact, b, a, u, n) for (name, b, a, u, n), contact in zip(MEMBERS, programme["contacts"]))
    # before 2,1,3 -> 2.0; after 4,4,4 -> 4.0; change 2.0; usefulness 25/3; NPS (2 promoters - 1 detractor) / 3
    assert report == {"responses": 3, "mean_confidence_before": 2.0, "mean_confidence_after": 4.0,
                      "mean_confidence_change": 2.0, "mean_usefulness": 8.33, "net_promoter_score": 33.3}


def _resolve(report, path: str):
    value = report
    for segment in path.split("/"):
        if isinstance(value, list):
            value = next(item for item in value
                         if segment in (item.get("month"), item.get("slug"), item.get("code"), item.get("ics_code")))
        else:
            value = value[segment]
    return value


def _shown(page) -> dict[str, tuple[str, str]]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-metric]')].map(
        td => [td.dataset.metric, [td.textContent, td.dataset.value]]))""")


def _check_number(path: str, text: str, raw: str, expected) -> None:
    if expected is None:
        assert (text, raw) == ("–", ""), path
        return
    assert float(raw) == expected, path
    if path.endswith("coverage"):
        assert text == f"{expected * 100:.1f}%", path
    else:
        assert float(text) == expected, path


def test_dashboard_shows_the_reports_numbers(server, programme, page):
    page.goto(server.url + "/dashboard")
    page.get_by_label("API token").fill(programme["token"])
    page.keyboard.press("Enter")
    page.wait_for_selector("main[data-state=ready]")
    page.wait_for_function("""() => ['chart-region', 'chart-month', 'chart-confidence', 'chart-themes', 'chart-steps']
        .every(id => { const c = Chart.getChart(id); return c && c.chartArea && c.chartArea.width > 0; })""")

    with server.client(programme["token"]) as api:
        report = api.get("/api/v1/reports/programme").json()
        today = page.evaluate("new Intl.DateTimeFormat('en-CA', {timeZone: 'Europe/London'}).format(new Date())")
        open_steps = len(api.get("/api/v1/next-steps?done=false&page_size=100").json())
        overdue = len(api.get(f"/api/v1/next-steps?done=false&due_before={today}&page_size=100").json())
    shown = _shown(page)
    for path, (text, raw) in shown.items():
        if path.startswith("next_steps/"):
            continue
        _check_number(path, text, raw, _resolve(report, path))
    # Every figure the issue names is on the page.
    for region in report["by_region"]:
        assert f"by_region/{region}/coverage" in shown
    assert {f"by_month/{m['month']}/sessions" for m in report["by_month"]} <= set(shown)
    assert {f"themes/{t['slug']}/count" for t in report["themes"]} <= set(shown) and report["themes"]
    for metric in ("mean_before", "mean_after", "mean_change", "responses"):
        assert f"confidence/{metric}" in shown
    for metric in report["attendee_feedback"]:
        assert f"attendee_feedback/{metric}" in shown
    assert shown["next_steps/open"][1] == str(open_steps) == "2"
    assert shown["next_steps/overdue"][1] == str(overdue) == "1"
    if "by_ics" in report:
        assert any(path.startswith("by_ics/") for path in shown)
    else:
        assert page.locator("#ics-missing").is_visible()
    if report["attendee_feedback"]["responses"]:  # the three members above (when run with that test, as in CI)
        assert shown["attendee_feedback/mean_confidence_change"][0] == "2"  # their change, from 2 to 4
    screenshot(page, "dashboard.png")

    # The token is kept for the tab: a reload goes straight to the figures, and "Forget" asks again.
    page.reload()
    page.wait_for_selector("main[data-state=ready]")
    page.get_by_role("button", name="Forget my token").click()
    assert page.get_by_label("API token").is_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert page.console_errors == []


def test_dashboard_refuses_a_bad_token_and_asks_again(server, page):
    page.goto(server.url + "/dashboard")
    page.get_by_label("API token").fill("brt_not-a-real-token")
    page.get_by_role("button", name="Show the dashboard").click()
    page.wait_for_selector("main[data-state=token]")
    assert "not accepted" in page.get_by_role("status").text_content()
    assert page.evaluate("sessionStorage.length") == 0
