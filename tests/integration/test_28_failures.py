"""Failures inside PostgreSQL in the middle of the unattended work: the
statement that fires due follow-ups, and the statements that record that an
event's reactions are done (and that claim it again later), fail a few
times. The work is done anyway, and exactly once.

The failures are real errors raised by PostgreSQL: a trigger of the test
refuses the first few updates of one user's rows."""

from contextlib import contextmanager

import pytest

from conftest import ServerFactory, base_env, poll
from dbutil import psql, rows
from wsutil import metrics, user_id

TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Reactions an event still lacks after 1 s are claimed again, every
    second, so that a failed mark is retried within the test's patience."""
    factory = ServerFactory(tmp_path_factory.mktemp("server"))
    yield factory(env=base_env(HIREWIRE_REACTION_RETRY_S=1, HIREWIRE_REACTION_SWEEP_S=1))
    factory.stop_all()


@contextmanager
def failing_updates(table, uid, times):
    """The first `times` UPDATE statements that touch a row of user uid in
    `table` fail with an error; yields a function that tells how many
    updates the trigger has seen (nextval survives the rollback)."""
    name = f"test_fail_{table}_{uid}"
    psql(f"""
        CREATE SEQUENCE {name}_n;
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('{name}_n') <= {times} THEN
                RAISE EXCEPTION 'update of {table} refused by the test';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW
            WHEN (OLD.user_id = {uid}) EXECUTE FUNCTION {name}();""")

    def seen():
        return int(psql(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {name}_n"))
    try:
        yield seen
    finally:
        psql(f"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}(); DROP SEQUENCE {name}_n")


def count(sql):
    return int(psql(sql))


def test_firing_fails_then_fires_once(server, user):
    uid = user_id(server.port, user.token)
    before = metrics(server.port).get("hirewire_followup_fire_failures_total", 0)
    with failing_updates("followups", uid, 2) as seen:
        r = server.post("/api/v1/followups", token=user.token,
                        body={"subject": "Call Dana back", "in_minutes": 0})
        assert r.status == 201, r
        fid = r.body["id"]
        poll(lambda: psql(f"SELECT state FROM followups WHERE id = {fid}") == "due",
             TIMEOUT_S, what="the follow-up fired after two failed attempts")
        assert seen() >= 3
    assert metrics(server.port)["hirewire_followup_fire_failures_total"] >= before + 2
    assert count(f"SELECT count(*) FROM events WHERE user_id = {uid} AND type = 'followup.due' "
                 f"AND (data->>'followup_id')::bigint = {fid}") == 1
    # The user's event log has no gap: the failed attempts took no seq.
    seqs = [int(s) for (s,) in rows(f"SELECT seq FROM events WHERE user_id = {uid} ORDER BY seq")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


def test_marks_fail_then_reactions_finish_once(server, user):
    uid = user_id(server.port, user.token)
    with failing_updates("events", uid, 4) as seen:
        r = server.post("/api/v1/jobs/process", token=user.token, body={
            "jobTitle": "Platform Engineer", "company": "Umbrella Corp",
            "jobUrl": "https://www.indeed.com/viewjob?jk=failures28", "source": "indeed"})
        assert r.status == 201, r
        jid = r.body["id"]
        m = server.post(f"/api/v1/ats/jobs/{jid}/status", token=user.token,
                        body={"status": "applied"})
        assert m.status == 200, m
        poll(lambda: count(f"SELECT count(*) FROM events WHERE user_id = {uid} "
                           f"AND reacted_at IS NULL") == 0 and seen() > 4,
             TIMEOUT_S, what="every event marked reacted after the refused updates")
    # Each reaction's effect is there once, however often it ran.
    assert count(f"SELECT count(*) FROM jobs WHERE id = {jid} AND company_id IS NOT NULL") == 1
    assert count(f"SELECT count(*) FROM companies WHERE user_id = {uid}") == 1
    assert count(f"SELECT count(*) FROM learning_signals WHERE user_id = {uid}") == 1
    assert count(f"SELECT count(*) FROM followups WHERE user_id = {uid} AND job_id = {jid} "
                 f"AND state = 'pending'") == 3
    assert count(f"SELECT count(*) FROM events WHERE user_id = {uid} "
                 f"AND type = 'followup.scheduled'") == 3
    seqs = [int(s) for (s,) in rows(f"SELECT seq FROM events WHERE user_id = {uid} ORDER BY seq")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
