"""import-trusts: the NHS ODS extract, CSV with a header, bad rows by physical line, CSV round trip."""

import csv
import io

from sqlalchemy import delete, select

from api.trusts.importer import import_trusts

ODS = (
    '"RR8","LEEDS TEACHING HOSPITALS NHS TRUST","Y63","QWO","ST JAMES\'S UNIVERSITY HOSPITAL","BECKETT STREET",'
    '"LEEDS","WEST YORKSHIRE","","LS9 7TF","19981101","",""\n'
    '"RJ1","GUY\'S AND ST THOMAS\' NHS FOUNDATION TRUST","Y56","QKK","ST THOMAS\' HOSPITAL","WESTMINSTER BRIDGE ROAD",'
    '"LONDON","","","SE1 7EH","19930401","",""\n'
    '"RXX","OLD NORTHERN TRUST","Y54","Q72","A","B","C","","","X1 1XX","19930401","",""\n'
    '"RYY","CLOSED TRUST","Y56","Q72","A","B","C","","","X1 1XX","19930401","20200331",""\n'
    '"R!1","BAD CODE TRUST","Y56","Q72","A","B","C","","","X1 1XX","19930401","",""\n'
    '"RZ9","SHORT ROW"\n'
)


def run(app, tmp_path, content: str, name="trusts.csv"):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["import-trusts", str(path)])


def test_ods_extract(app, db, tmp_path):
    from api.trusts.models import Trust

    result = run(app, tmp_path, ODS, "etr.csv")
    assert result.exit_code == 1, result.output  # rows were rejected: the good ones are kept all the same
    lines = result.stdout.splitlines()
    assert "line 3: national grouping Y54 does not map to a region" in lines[0]
    assert lines[1] == "line 4: organisation closed on 2020-03-31"
    assert lines[2].startswith("line 5: ods_code:")
    assert lines[3].startswith("line 6: 2 columns")
    assert lines[-1].startswith("2 created, 0 updated, 0 unchanged, 4 rejected")
    trusts = {t.ods_code: t for t in db().scalars(select(Trust))}
    assert trusts["RR8"].name == "Leeds Teaching Hospitals NHS Trust"
    assert trusts["RR8"].region == "north_east_and_yorkshire" and trusts["RR8"].trust_type == "other"
    assert trusts["RJ1"].name == "Guy's and St Thomas' NHS Foundation Trust" and trusts["RJ1"].region == "london"
    again = run(app, tmp_path, ODS, "etr.csv")
    assert again.exit_code == 1
    assert again.stdout.splitlines()[-1].startswith("0 created, 0 updated, 2 unchanged, 4 rejected")


def test_header_csv_upserts_and_reports_physical_lines(app, db, tmp_path, create_trust):
    from api.trusts.models import Trust

    create_trust(ods_code="RX1", name="Old name", region="midlands", trust_type="acute")
    content = ("name,ods_code,region,trust_type,ics,website,timezone\n"
               "Nottingham University Hospitals NHS Trust,rx1,midlands,acute,Nottingham ICS,,\n"
               "\"A trust with a\nline break\",RA2,mars,acute,,,\n"
               "Fine Trust,RA3,south_east,,,,\n"
               "Dup Trust,ra3,south_east,,,,\n"
               "Bad Zone,RA4,london,acute,,,Mars/Olympus\n"
               "Too,Many,Fields,acute,,,,,\n")
    result = run(app, tmp_path, content)
    assert result.exit_code == 1, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith("line 3: region:")
    assert out[1] == "line 6: ODS code RA3 already given on line 5"
    assert out[2].startswith("line 7: timezone:")
    assert out[3] == "line 8: 9 fields, the header has 7"
    assert out[-1].startswith("1 created, 1 updated, 0 unchanged, 4 rejected")
    rx1 = db().scalar(select(Trust).where(Trust.ods_code == "RX1"))
    assert rx1.name == "Nottingham University Hospitals NHS Trust" and rx1.ics == "Nottingham ICS"
    ra3 = db().scalar(select(Trust).where(Trust.ods_code == "RA3"))
    assert ra3.trust_type == "other" and ra3.timezone == "Europe/London"
    assert "Importing trusts" in result.stderr


def test_export_then_import_round_trips(app, db, tmp_path, coordinator):
    from api.audit import AuditEvent
    from api.trusts.models import Trust

    for ods, region, kind in (("RR8", "north_east_and_yorkshire", "acute"), ("RV5", "london", "mental_health")):
        coordinator.post("/api/v1/trusts", json={"name": f"Trust {ods}, \"quoted\"", "ods_code": ods, "region": region,
                                                 "trust_type": kind, "ics": None, "website": "https://x.nhs.uk",
                                                 "notes": "line one\nline two"})
    exported = coordinator.get("/api/v1/trusts", headers={"Accept": "text/csv"})
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    text = exported.get_data(as_text=True)

    def comparable(csv_text):
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        return [{k: v for k, v in r.items() if k not in ("id", "created_at", "updated_at")} for r in rows]

    db().execute(delete(AuditEvent))
    db().execute(delete(Trust))
    db().commit()
    result = run(app, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "ignored columns: id, archived_at, created_at, updated_at" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("2 created")
    again = coordinator.get("/api/v1/trusts", headers={"Accept": "text/csv"}).get_data(as_text=True)
    assert comparable(again) == comparable(text)
    assert len(comparable(text)) == 2


def test_contacts_csv(coordinator, viewer, create_trust):
    trust_id = create_trust().id
    coordinator.post(f"/api/v1/trusts/{trust_id}/contacts", json={"name": "Ann, Chair", "email": "ann@example.org"})
    r = viewer.get(f"/api/v1/trusts/{trust_id}/contacts", headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0]["name"] == "Ann, Chair" and rows[0]["email"] == "ann@example.org" and rows[0]["phone"] == ""
    assert r.headers["X-Pagination"]
    assert viewer.get(f"/api/v1/trusts/{trust_id}/contacts").is_json


def test_import_function_reports_unreadable_file(db):
    summary = import_trusts(db(), "")
    assert (summary.created, summary.rejected) == (0, [])


def test_exit_status_is_1_when_any_row_is_rejected_0_when_none(app, db, tmp_path):
    from api.trusts.models import Trust

    header = "name,ods_code,region\n"
    every_row_bad = run(app, tmp_path, header + "A,R!1,london\nB,RA1,mars\n")
    assert every_row_bad.exit_code == 1
    lines = every_row_bad.stdout.splitlines()
    assert lines[0].startswith("line 2: ods_code:") and lines[1].startswith("line 3: region:")
    assert lines[-1].startswith("0 created, 0 updated, 0 unchanged, 2 rejected")
    one_bad = run(app, tmp_path, header + "Good Trust,RA2,london\nB,RA1,mars\n")
    assert one_bad.exit_code == 1 and "line 3: region" in one_bad.stdout
    assert db().scalar(select(Trust.name).where(Trust.ods_code == "RA2")) == "Good Trust"  # kept
    all_good = run(app, tmp_path, header + "Other Trust,RA5,london\n")
    assert all_good.exit_code == 0, all_good.output
