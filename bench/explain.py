"""EXPLAIN (ANALYZE, BUFFERS) every statement the hot endpoints send, on a seeded PostgreSQL database.

    .venv/bin/python bench/explain.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_100000

Serves each request once in-process (the app's own code, a coordinator token), records the SQL
statements and parameters it sends, then runs each again under EXPLAIN on the same database and
prints markdown: one section per endpoint, one plan per statement. Run `bench/run.py` first to seed.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SELECT 1")


def requests(client, auth: dict, ids: dict, feeds: dict) -> dict:
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
    slot_q = (f"/api/v1/scheduling/slots?speaker_ids={','.join(ids['speakers'])}&trust_id={ids['trust']}"
              f"&from={start:%Y-%m-%dT%H:%M:%SZ}&to={start + timedelta(days=28):%Y-%m-%dT%H:%M:%SZ}&duration=180")
    def write(_client):  # any write moves the data state: the next list counts again
        _client.patch(f"/api/v1/bookings/{ids['booking']}", json={"brief": f"Brief {datetime.now(UTC)}"},
                      headers={**auth, "If-Match": "*"})

    return {
        "list bookings (page of 50; the count is cached per data-state version)": "/api/v1/bookings?page_size=50",
        "list bookings right after a write (the count recomputed)": ("/api/v1/bookings?page_size=50", write),
        "get booking": f"/api/v1/bookings/{ids['booking']}",
        "speaker feed": f"/feeds/{feeds['speaker']}",
        "programme report (whole history, roll-ups current)": "/api/v1/reports/programme",
        "slot finder (3 speakers, 4 weeks)": slot_q,
    }


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _short(text: str) -> str:
    """Long id lists (a page's ids, the trusts of a report) shortened to their first id and a count."""
    def shorten(m):
        found = re.findall(_UUID, m.group(0))
        return m.group(0) if len(found) < 3 else f"{m.group(1)}{found[0]}{m.group(2)} … {len(found)} ids{m.group(3)}"

    text = re.sub(rf"(\(')(?:{_UUID}'(?:, ')?)+()(\))", lambda m: shorten(m).replace("( … ", "(… "), text)
    # Expanding bind parameters as sent: %(id_1_1)s::VARCHAR, %(id_1_2)s::VARCHAR, ... -> the first and a count.
    text = re.sub(r"(%\((\w+?)_1\)s(::\w+)?)(?:, %\(\2_\d+\)s(?:::\w+)?){2,}",
                  lambda m: f"{m.group(1)}, … {m.group(0).count('%(')} values", text)
    return re.sub(rf"(\{{){_UUID}(?:,{_UUID})+()(\}})", shorten, text)


def main() -> int:
    from sqlalchemy import event

    from api import create_app
    from bench.run import cli_token, pick_ids

    url = sys.argv[1]
    os.environ["DATABASE_URL"] = url
    token = cli_token(url)
    ids = pick_ids(url)
    app = create_app({"DATABASE_URL": url})
    engine = app.extensions["engine"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/feeds", json={"scope": "speaker", "speaker_id": ids["speakers"][0]}, headers=auth)
    feeds = {"speaker": created.json["url"].split("/feeds/", 1)[1]}
    sent: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if not statement.lstrip().upper().startswith(SKIP):
            sent.append((statement, parameters))

    with engine.connect() as conn:
        counts = conn.exec_driver_sql("SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM booking_speakers),"
                                      " version()").one()
    print(f"Database `{url.rsplit('/', 1)[1]}`: {counts[0]:,} bookings, {counts[1]:,} speaker slots; "
          f"{counts[2].split(' on ')[0]}.\n")
    for title, path in requests(client, auth, ids, feeds).items():
        path, prepare = path if isinstance(path, tuple) else (path, None)
        client.get(path, headers=auth)  # warm: stored renderings and roll-ups filled, caches hot
        if prepare:
            prepare(client)
        sent.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(path, headers=auth)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        print(f"## {title}\n\n`GET {_short(path)}` → {response.status_code}, {len(sent)} statements\n")
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in sent:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(r[0] for r in cursor.fetchall())
                whole = re.findall(r"(Seq Scan on \w+|Sort Method: \S+ \S+)", plan)
                print(f"```sql\n{_short(statement.strip())}\n```\n\n```\n{_short(plan)}\n```\n\n"
                      f"Nodes of note: {', '.join(whole) or 'none'}\n")
            raw.rollback()
        finally:
            raw.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
