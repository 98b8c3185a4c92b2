"""SQLite writers queue on a file lock before BEGIN IMMEDIATE (``api.db.WriterQueueConnection``).

What a client sees from it is latency under concurrent writes (``make bench``: create p99 against p50);
here, that the lock is held exactly while a write transaction is open, by any connection, and that a
second writer waits for the first to end rather than failing.
"""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import text

from api.db import make_engine


def _held(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing the descriptor drops a lock taken on it
    return False


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def test_a_write_transaction_holds_the_queue_until_it_ends(engine, tmp_path):
    lock = str(tmp_path / "queue.sqlite3") + ".writers"
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        conn.begin()
        assert _held(lock)
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        assert not _held(lock)
        conn.begin()
        assert _held(lock)
        conn.rollback()
        assert not _held(lock)
    with engine.connect() as reader:  # a read transaction never queues
        reader.begin()
        assert not _held(lock)
        reader.rollback()


def test_a_second_writer_waits_for_the_first_and_then_writes(engine):
    first = engine.connect().execution_options(sqlite_immediate=True)
    first.begin()
    first.execute(text("INSERT INTO t VALUES (1)"))
    entered, done = threading.Event(), threading.Event()

    def second():
        with engine.connect().execution_options(sqlite_immediate=True) as conn:
            entered.set()
            with conn.begin():
                conn.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert entered.wait(30)
    assert not done.wait(0.2)  # queued behind the open transaction
    first.commit()
    first.close()
    assert done.wait(30)
    thread.join(30)
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM t")).scalars()) == [1, 2]
