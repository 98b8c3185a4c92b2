"""Integrated care systems: the reference list, trusts' ics_code, the filter, the report's by_ics, the import
and the migration that maps free-text names."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from sqlalchemy import create_engine, text

from api.trusts import ics
from api.trusts.models import REGIONS
from tests.conftest import migrate, problem


def _csv(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv"), response.data
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_the_42_systems_each_in_one_of_the_regions():
    assert len(ics.SYSTEMS) == 42 == len(ics.CODES) == len({s.name for s in ics.SYSTEMS})
    assert {s.region for s in ics.SYSTEMS} == set(REGIONS)
    counts = {r: sum(s.region == r for s in ics.SYSTEMS) for r in REGIONS}
    assert counts == {"north_east_and_yorkshire": 4, "north_west": 3, "midlands": 11, "east_of_england": 6,
                      "london": 5, "south_east": 6, "south_west": 7}
    assert all(len(s.code) == 3 and s.code.startswith("Q") for s in ics.SYSTEMS)
    assert ics.BY_CODE["QE1"].name == "Lancashire and South Cumbria" and ics.BY_CODE["QE1"].region == "north_west"


def test_free_text_names_match_their_system():
    for spelling in ("West Yorkshire ICS", "NHS West Yorkshire Integrated Care Board", "west yorkshire",
                     "West Yorkshire Health and Care Partnership", "WEST YORKSHIRE INTEGRATED CARE SYSTEM", "qwo"):
        assert ics.match(spelling).code == "QWO", spelling
    assert ics.match("Leicester, Leicestershire & Rutland ICS").code == "QK1"
    assert ics.match("Frimley Health and Care ICS").code == "QNQ"
    assert ics.match("Nottingham ICS") is None and ics.match("") is None and ics.match(None) is None


def test_list_for_every_role_paginated_filtered_csv_and_cached(coordinator, viewer, partner, client, make_token):
    r = partner.get("/api/v1/integrated-care-systems")
    assert r.status_code == 200 and len(r.json) == 42
    assert r.json[0] == {"code": "QOX", "name": "Bath and North East Somerset, Swindon and Wiltshire",
                         "region": "south_west"}
    assert [s["name"] for s in r.json] == sorted(s["name"] for s in r.json)
    assert r.headers["ETag"] and "X-Pagination" in r.headers
    again = partner.get("/api/v1/integrated-care-systems", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == r.headers["ETag"]

    page = viewer.get("/api/v1/integrated-care-systems?page=2&page_size=40&sort=code")
    assert [s["code"] for s in page.json] == sorted(ics.CODES)[40:] and 'rel="prev"' in page.headers["Link"]
    london = coordinator.get("/api/v1/integrated-care-systems?region=london")
    assert {s["code"] for s in london.json} == {"QMJ", "QMF", "QRV", "QKK", "QWE"}
    assert coordinator.get("/api/v1/integrated-care-systems?updated_since=2026-01-01T00:00:00Z").json == []
    assert coordinator.get("/api/v1/integrated-care-systems?region=mars").status_code == 422

    rows = _csv(coordinator.get("/api/v1/integrated-care-systems?region=london",
                                headers={"Accept": "text/csv"}))
    assert list(rows[0]) == ["code", "name", "region"] and len(rows) == 5
    as_csv = coordinator.get("/api/v1/integrated-care-systems", headers={"Accept": "text/csv"})
    assert as_csv.headers["ETag"] != r.headers["ETag"]  # two representations, two ETags

    metrics = client.get("/api/v1/integrated-care-systems",
                         headers={"Authorization": f"Bearer {make_token('metrics')}"})
    assert metrics.status_code == 403
    assert client.get("/api/v1/integrated-care-systems").status_code == 401


def test_ics_code_sets_the_name_is_validated_and_filters(coordinator, partner):
    created = coordinator.post("/api/v1/trusts", json={"name": "Leeds Teaching Hospitals NHS Trust", "ods_code": "RR8",
                                                        "region": "north_east_and_yorkshire", "ics_code": "QWO"})
    assert created.status_code == 201, created.json
    assert created.json["ics_code"] == "QWO" and created.json["ics"] == "West Yorkshire"
    url = f"/api/v1/trusts/{created.json['id']}"

    bad = coordinator.post("/api/v1/trusts", json={"name": "X", "ods_code": "RX9", "region": "london",
                                                   "ics_code": "QZZ"})
    assert bad.status_code == 422 and "ics_code" in problem(bad)["errors"]
    assert coordinator.get("/api/v1/trusts").json[0]["ods_code"] == "RR8"  # nothing created by the 422

    clash = coordinator.patch(url, json={"ics": "Somewhere else"})
    assert clash.status_code == 422 and "ics" in problem(clash)["errors"]
    same = coordinator.patch(url, json={"ics": "West Yorkshire ICS"})  # names the same system: kept canonical
    assert same.status_code == 200 and same.json["ics"] == "West Yorkshire"

    moved = coordinator.patch(url, json={"ics_code": "QF7"}, etag=same.headers["ETag"])
    assert moved.status_code == 200 and moved.json["ics"] == "South Yorkshire"
    assert moved.headers["ETag"] != same.headers["ETag"]
    cleared = coordinator.patch(url, json={"ics_code": None, "ics": "South Yorkshire and Bassetlaw ICS"})
    assert cleared.status_code == 200 and cleared.json["ics_code"] is None
    assert cleared.json["ics"] == "South Yorkshire and Bassetlaw ICS"  # free text again

    coordinator.post("/api/v1/trusts", json={"name": "Barts Health NHS Trust", "ods_code": "R1H", "region": "london",
                                             "ics_code": "QMF"})
    coordinator.post("/api/v1/trusts", json={"name": "Guy's", "ods_code": "RJ1", "region": "london",
                                             "ics_code": "QKK"})
    found = partner.get("/api/v1/trusts?ics_code=QMF,QKK&sort=ods_code")
    assert [t["ods_code"] for t in found.json] == ["R1H", "RJ1"]
    assert partner.get("/api/v1/trusts?ics_code=QMF").json[0]["ics"] == "North East London"
    assert coordinator.get("/api/v1/trusts?ics_code=QMF,NOPE").status_code == 422
    assert coordinator.get("/api/v1/trusts?ics_code=,").status_code == 422


def test_report_by_ics_in_json_and_csv(coordinator, create_trust):
    engaged = create_trust(ics_code="QWO", ics="West Yorkshire", region="north_east_and_yorkshire")
    create_trust(ics_code="QWO", ics="West Yorkshire", region="north_east_and_yorkshire")
    create_trust(ics_code="QMF", ics="North East London")
    create_trust(ics="Free text ICS")  # in no system
    booked = coordinator.post("/api/v1/bookings", json={"trust_id": engaged.id, "status": "delivered",
                                                        "starts_at": "2025-03-05T10:00:00Z"})
    assert booked.status_code == 201, booked.json

    report = coordinator.get("/api/v1/reports/programme").json
    assert len(report["by_ics"]) == 42
    assert report["by_ics"]["QWO"] == {"name": "West Yorkshire", "region": "north_east_and_yorkshire",
                                       "trusts_engaged": 1, "trusts_total": 2, "coverage": 0.5}
    assert report["by_ics"]["QMF"]["trusts_total"] == 1 and report["by_ics"]["QMF"]["coverage"] == 0.0
    assert report["by_ics"]["QE1"] == {"name": "Lancashire and South Cumbria", "region": "north_west",
                                       "trusts_engaged": 0, "trusts_total": 0, "coverage": None}
    assert report["trusts_total"] == 4

    rows = _csv(coordinator.get("/api/v1/reports/programme", headers={"Accept": "text/csv"}))
    qwo = {r["metric"]: r["value"] for r in rows if r["section"] == "by_ics" and r["key"] == "QWO"}
    assert qwo == {"name": "West Yorkshire", "region": "north_east_and_yorkshire", "trusts_engaged": "1",
                   "trusts_total": "2", "coverage": "0.5"}


ODS = (
    '"RR8","LEEDS TEACHING HOSPITALS NHS TRUST","Y63","QWO","ST JAMES\'S UNIVERSITY HOSPITAL","BECKETT STREET",'
    '"LEEDS","WEST YORKSHIRE","","LS9 7TF","19981101","",""\n'
    '"RJ1","GUY\'S AND ST THOMAS\' NHS FOUNDATION TRUST","Y56","QKK","ST THOMAS\' HOSPITAL","WESTMINSTER BRIDGE ROAD",'
    '"LONDON","","","SE1 7EH","19930401","",""\n'
    '"RXN","LANCASHIRE TEACHING HOSPITALS NHS FOUNDATION TRUST","Y62","Q83","ROYAL PRESTON HOSPITAL",'
    '"SHAROE GREEN LANE","PRESTON","","","PR2 9HT","19980401","",""\n'
)


def test_import_fills_ics_code_from_the_commissioning_column(app, db, tmp_path, create_trust):
    from sqlalchemy import select

    from api.trusts.models import Trust

    create_trust(ods_code="RXN", name="Lancashire Teaching", region="north_west", ics_code="QE1",
                 ics="Lancashire and South Cumbria")
    path = tmp_path / "etr.csv"
    path.write_text(ODS, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-trusts", str(path)])
    assert result.exit_code == 0, result.output
    trusts = {t.ods_code: t for t in db().scalars(select(Trust))}
    assert (trusts["RR8"].ics_code, trusts["RR8"].ics) == ("QWO", "West Yorkshire")
    assert (trusts["RJ1"].ics_code, trusts["RJ1"].ics) == ("QKK", "South East London")
    # Q83 is a pre-2022 commissioning region, not a system: the trust keeps the system it had.
    assert (trusts["RXN"].ics_code, trusts["RXN"].ics) == ("QE1", "Lancashire and South Cumbria")

    header = tmp_path / "trusts.csv"
    header.write_text("name,ods_code,region,ics,ics_code\n"
                      "Barts Health NHS Trust,R1H,london,,QMF\n"
                      "Bad System,RB1,london,,QQQ\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-trusts", str(header)])
    assert result.exit_code == 1
    assert "line 3: ics_code:" in result.stdout
    barts = db().scalar(select(Trust).where(Trust.ods_code == "R1H"))
    assert (barts.ics_code, barts.ics) == ("QMF", "North East London")


def test_csv_export_with_ics_code_reimports_unchanged(app, coordinator, tmp_path):
    coordinator.post("/api/v1/trusts", json={"name": "Leeds", "ods_code": "RR8",
                                             "region": "north_east_and_yorkshire", "ics_code": "QWO"})
    exported = coordinator.get("/api/v1/trusts", headers={"Accept": "text/csv"})
    assert _csv(exported)[0]["ics_code"] == "QWO"
    path = tmp_path / "export.csv"
    path.write_bytes(exported.data)
    result = app.test_cli_runner().invoke(args=["import-trusts", str(path)])
    assert result.exit_code == 0 and "0 created, 0 updated, 1 unchanged" in result.stdout, result.output


def test_migration_maps_free_text_names_to_codes(fresh_url):
    migrate(fresh_url, "0003")
    engine = create_engine(fresh_url)
    rows = [("t1", "RR8", "West Yorkshire ICS"), ("t2", "RJ1", "NHS South East London Integrated Care Board"),
            ("t3", "RX1", "Nottingham ICS"), ("t4", "R1H", None)]
    with engine.begin() as conn:
        for trust_id, ods, name in rows:
            conn.execute(text("INSERT INTO trusts (id, name, ods_code, region, trust_type, ics, timezone, "
                              "created_at, updated_at, version) VALUES (:id, :name, :ods, 'london', 'acute', :ics, "
                              "'Europe/London', :at, :at, 1)"),
                         {"id": trust_id, "name": f"Trust {ods}", "ods": ods, "ics": name,
                          "at": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    migrate(fresh_url, "0007")
    with engine.connect() as conn:
        found = {r.id: (r.ics_code, r.ics, r.version) for r in conn.execute(
            text("SELECT id, ics_code, ics, version FROM trusts"))}
    engine.dispose()
    assert found == {"t1": ("QWO", "West Yorkshire", 2), "t2": ("QKK", "South East London", 2),
                     "t3": (None, "Nottingham ICS", 1), "t4": (None, None, 1)}


def test_demo_trusts_belong_to_systems_of_their_region(db, coordinator):
    from datetime import date

    from api.demo import seed

    seed(db(), today=date(2026, 11, 26))
    db().commit()
    trusts = coordinator.get("/api/v1/trusts?page_size=100").json
    assert trusts and all(t["ics_code"] in ics.BY_CODE for t in trusts)
    assert all(ics.BY_CODE[t["ics_code"]].region == t["region"] and t["ics"] == ics.BY_CODE[t["ics_code"]].name
               for t in trusts)
    by_ics = coordinator.get("/api/v1/reports/programme").json["by_ics"]
    assert sum(s["trusts_total"] for s in by_ics.values()) == len(trusts)
    assert sum(s["trusts_engaged"] for s in by_ics.values()) >= 30
