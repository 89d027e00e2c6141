"""PostgreSQL as the tests look at it directly (psql with HIREWIRE_PG_CONNINFO),
and waits for the reactions the orchestrator runs after a commit."""

import os
import subprocess

from conftest import poll
from wsutil import replay, user_id

REACTION_TIMEOUT_S = 60.0


def psql(sql):
    """One statement's rows as psql -At prints them, fields joined by "|"."""
    out = subprocess.run(["psql", os.environ["HIREWIRE_PG_CONNINFO"], "-At", "-F", "|", "-v",
                          "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def rows(sql):
    text = psql(sql)
    return [line.split("|") for line in text.splitlines()] if text else []


def wait_reacted(uid, timeout=REACTION_TIMEOUT_S):
    """Waits until every event of user uid has had its reactions (they run
    after the commit and write events of their own)."""
    poll(lambda: psql(f"SELECT count(*) FROM events WHERE user_id = {uid} "
                      f"AND reacted_at IS NULL") == "0",
         timeout, what="the reactions of every event")


_uids = {}


def reactions_done(server, token):
    """wait_reacted() for the user of token. Requests that follow a status
    change or a scheduled interview wait for this so that they do not race
    those reactions; test_21_ats.py's test_next_request_never_collides_with_
    reactions is the test of that race."""
    if token not in _uids:
        _uids[token] = user_id(server.port, token)
    wait_reacted(_uids[token])


def settled(server, token):
    """The user's events once every one is reacted to."""
    reactions_done(server, token)
    return replay(server.port, token)


def last_seq(server, token):
    """The seq of the user's last event once every one is reacted to; 0
    when there is none."""
    events = settled(server, token)
    return events[-1]["seq"] if events else 0


def own(events):
    """The events without the follow-ups and reminders the reactions
    schedule."""
    return [e for e in events if e["channel"] != "followups"]
