"""Statements as PostgreSQL runs them: prepared once per connection, run again
when the failure is one that running again cures (a deadlock it was chosen to
lose, a prepared plan that a migration outdated), and never half applied.

The failures are made real inside PostgreSQL: a trigger of the test raises
the deadlock's SQLSTATE, and a column is added to the jobs table while the
server runs."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import assert_error, base_env, poll
from dbutil import psql
from wsutil import metrics, user_id


def create_job(server, token, url=None):
    body = {"company": "Initech", "job_title": "Systems Engineer", "job_description": "C"}
    if url:
        body["job_url"] = url
    r = server.post("/api/v1/jobs", body=body, token=token)
    assert r.status == 201, r
    return r.body


def retries(server):
    return metrics(server.port)["hirewire_pg_retries_total"]


@pytest.fixture
def deadlocking_notes(user, server):
    """A trigger on the notes of this user's jobs that fails the insert with
    SQLSTATE 40P01 while a sequence is at or below the limit the test sets;
    the sequence counts the attempts (nextval is not rolled back)."""
    uid = user_id(server.port, user.token)
    psql(f"""
        CREATE SEQUENCE test_deadlock_{uid}_tries;
        CREATE TABLE test_deadlock_{uid}_limit (n int NOT NULL);
        CREATE FUNCTION test_deadlock_{uid}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('test_deadlock_{uid}_tries') <=
               (SELECT n FROM test_deadlock_{uid}_limit) THEN
                RAISE EXCEPTION 'deadlock detected (made by the test)' USING ERRCODE = '40P01';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_deadlock_{uid} BEFORE INSERT ON job_notes FOR EACH ROW
            WHEN (NEW.user_id = {uid}) EXECUTE FUNCTION test_deadlock_{uid}();""")

    def arm(limit):
        psql(f"DELETE FROM test_deadlock_{uid}_limit; "
             f"INSERT INTO test_deadlock_{uid}_limit VALUES ({limit}); "
             f"SELECT setval('test_deadlock_{uid}_tries', 1, false)")

    def tries():
        return int(psql(f"SELECT last_value - CASE WHEN is_called THEN 0 ELSE 1 END "
                        f"FROM test_deadlock_{uid}_tries"))

    yield uid, arm, tries
    psql(f"DROP TRIGGER test_deadlock_{uid} ON job_notes; DROP FUNCTION test_deadlock_{uid}(); "
         f"DROP TABLE test_deadlock_{uid}_limit; DROP SEQUENCE test_deadlock_{uid}_tries")


def note_count(uid):
    return int(psql(f"SELECT count(*) FROM job_notes WHERE user_id = {uid}"))


def event_seq(uid):
    return int(psql(f"SELECT event_seq FROM users WHERE id = {uid}"))


def test_deadlock_victim_runs_again(server, user, deadlocking_notes):
    uid, arm, tries = deadlocking_notes
    job = create_job(server, user.token)
    arm(1)
    before, seq = retries(server), event_seq(uid)
    r = server.post("/api/v1/ats/notes", token=user.token,
                    body={"job_id": job["id"], "content": "Asked about on-call"})
    assert r.status == 201, r
    assert tries() == 2
    assert note_count(uid) == 1
    assert retries(server) == before + 1
    assert event_seq(uid) > seq  # the second run's events, once
    assert "running it again" in server.stderr()


def test_deadlock_every_time_changes_nothing(server, user, deadlocking_notes):
    uid, arm, tries = deadlocking_notes
    job = create_job(server, user.token)
    arm(1000)
    seq = event_seq(uid)
    r = server.post("/api/v1/ats/notes", token=user.token,
                    body={"job_id": job["id"], "content": "Never stored"})
    assert r.status >= 500, r
    assert tries() == 4  # the first run and three more
    assert note_count(uid) == 0
    assert event_seq(uid) == seq
    # The connections are still good: the next request succeeds.
    arm(0)
    r = server.post("/api/v1/ats/notes", token=user.token,
                    body={"job_id": job["id"], "content": "Stored"})
    assert r.status == 201, r
    assert note_count(uid) == 1


def test_migration_while_serving(server, user):
    """A column added to and dropped from jobs while the server runs: the
    statements prepared before (RETURNING * inside a CTE, job_json(jobs))
    are planned again by PostgreSQL, since none returns the new column, and
    no request fails."""
    uid = user_id(server.port, user.token)
    for i in range(3):  # every pool connection has the save prepared
        create_job(server, user.token, f"https://example.com/jobs/before-{i}")
    try:
        psql("ALTER TABLE jobs ADD COLUMN test_added_column integer")
        for i in range(6):
            job = create_job(server, user.token, f"https://example.com/jobs/added-{i}")
            r = server.get(f"/api/v1/jobs/{job['id']}", token=user.token)
            assert r.status == 200, r
            assert "test_added_column" not in r.body
    finally:
        psql("ALTER TABLE jobs DROP COLUMN IF EXISTS test_added_column")
    for i in range(6):
        create_job(server, user.token, f"https://example.com/jobs/dropped-{i}")
    r = server.get("/api/v1/jobs?limit=100", token=user.token)
    assert r.status == 200 and len(r.body) == 15, r
    assert int(psql(f"SELECT count(*) FROM jobs WHERE user_id = {uid}")) == 15


def test_plan_outdated_by_a_type_change(server, user):
    """A column a prepared statement returns changes type: PostgreSQL
    refuses the old plan ("cached plan must not change result type"), the
    connection forgets its statements and prepares them anew, and the
    request is answered as if nothing happened."""
    for _ in range(3):
        assert server.get("/api/v1/me", token=user.token).status == 200
    before = retries(server)
    try:
        psql("ALTER TABLE users ALTER COLUMN timezone TYPE varchar(64)")
        for _ in range(4):
            r = server.get("/api/v1/me", token=user.token)
            assert r.status == 200 and r.body["timezone"] == "UTC", r
    finally:
        psql("ALTER TABLE users ALTER COLUMN timezone TYPE text")
    assert retries(server) > before
    for _ in range(4):
        assert server.get("/api/v1/me", token=user.token).status == 200


def test_statement_errors_are_still_errors(server, user):
    """Preparing does not hide a request's own errors: a bad id is still
    the clear 4xx it was."""
    r = server.get("/api/v1/jobs/0", token=user.token)
    assert r.status in (404, 422), r
    assert_error(server.get("/api/v1/jobs/999999999", token=user.token), 404, "not_found")


def test_queue_full_is_a_clear_503(start_server, user):
    """One connection, two statements may wait: while a psql session holds
    the user's row, the save that waits for it holds the connection, and
    what does not fit in the queue is refused at once with 503, Retry-After
    and a sentence that says why. Nothing refused is half done, and the
    server serves normally once the row is free."""
    srv = start_server(env=base_env(HIREWIRE_PG_POOL_SIZE=1, HIREWIRE_PG_QUEUE_MAX=2))
    uid = user_id(srv.port, user.token)
    holder = subprocess.Popen(
        ["psql", os.environ["HIREWIRE_PG_CONNINFO"], "-X", "-q", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    holder.stdin.write(f"BEGIN; SELECT 1 FROM users WHERE id = {uid} FOR UPDATE; "
                       "SELECT pg_sleep(4); COMMIT;\n")
    holder.stdin.close()
    try:
        poll(lambda: psql("SELECT count(*) FROM pg_stat_activity "
                          "WHERE wait_event = 'PgSleep'") != "0", 30, what="the row held")

        def save(i):
            return srv.post("/api/v1/jobs", token=user.token, body={
                "company": "Hooli", "job_title": f"Engineer {i}",
                "job_url": f"https://example.com/queue/{i}"})
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(save, range(8)))
    finally:
        assert holder.wait(timeout=60) == 0, holder.stderr.read()
    busy = [a for a in answers if a.status == 503]
    created = [a for a in answers if a.status == 201]
    assert len(busy) + len(created) == len(answers), answers
    assert busy, answers
    for a in busy:
        assert a.headers.get("retry-after") == "1", a
        assert a.body["error"]["code"] == "unavailable", a
        assert "busy" in a.body["error"]["message"], a
    assert int(psql(f"SELECT count(*) FROM jobs WHERE user_id = {uid}")) == len(created)
    assert metrics(srv.port)["hirewire_pg_queue_full_total"] >= 1
    r = srv.post("/api/v1/jobs", token=user.token,
                 body={"company": "Hooli", "job_title": "After", "job_url": "https://example.com/q"})
    assert r.status == 201, r
