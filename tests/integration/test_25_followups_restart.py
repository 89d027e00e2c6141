"""Follow-ups fire exactly once across crashes and nodes (DESIGN §5): the
rows live in PostgreSQL only, a node claims due rows with FOR UPDATE SKIP
LOCKED and writes their events in the same statement. A node killed with
SIGKILL loses nothing: what came due while it was down fires once after a
restart, marked late; a node killed while it fires leaves each row either
fired or pending, never both; two nodes whose clocks pass the same due
times at the same moment fire every follow-up once, and each user's log
keeps gap-free seqs while the API appends to it concurrently.

Time is moved with the test build's POST /api/v1/_test/clock; a node starts
on the real clock (there is no setting for the offset), so a restarted node
gets its offset through the endpoint right after start, which also makes
its scheduler look at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from conftest import base_env, new_user, poll
from wsutil import Poster, metrics, replay_async, run, user_id
from dbutil import rows, wait_reacted

UTC = timezone.utc
FIRE_TIMEOUT_S = 120.0


def parse(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def wire(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def set_clock(srv, token, at=None, advance_ms=None):
    """Moves the node's clock so that its now is `at` (or advances it);
    returns the node's now."""
    body = {"advance_ms": advance_ms} if at is None else \
        {"offset_ms": round((at.timestamp() - time.time()) * 1000)}
    r = srv.post("/api/v1/_test/clock", body=body, token=token)
    assert r.status == 200, r
    return parse(r.body["now"])


def replay(srv, token, channels="jobs,applications,followups"):
    """All of the user's events (since=0), each checked against proto/."""
    events, resumed = run(replay_async(srv.port, token, 0, channels))
    assert resumed["complete"] is True, resumed
    return events


def one_off(srv, token, **body):
    r = srv.post("/api/v1/followups", body=body, token=token)
    assert r.status == 201, r
    return r.body


def fired(uids):
    """followup_id -> [late, ...] of every followup.due in the users' logs."""
    out = {}
    for fid, late in rows(f"SELECT data->>'followup_id', data->>'late' FROM events "
                          f"WHERE user_id IN ({','.join(map(str, uids))}) "
                          f"AND type = 'followup.due' ORDER BY user_id, seq"):
        out.setdefault(int(fid), []).append(late == "true")
    return out


def states(ids):
    return dict((int(i), s) for i, s in rows(
        f"SELECT id, state FROM followups WHERE id IN ({','.join(map(str, ids))})"))


def all_due(ids):
    return set(states(ids).values()) == {"due"}


def check_log(srv, token, uid):
    """The user's seqs are 1..N without a gap, in the table and on a
    replay from 0; returns the replayed events."""
    n, lo, hi = rows(f"SELECT count(*), min(seq), max(seq) FROM events WHERE user_id = {uid}")[0]
    assert (int(n), int(lo)) == (int(hi), 1), f"user {uid}: {n} events, seqs {lo}..{hi}"
    events = replay(srv, token, channels="jobs,applications,interviews,followups,system")
    assert [e["seq"] for e in events] == list(range(1, int(n) + 1))
    return events


def barrier(srv, token):
    """A one-off due at the node's now, fired: everything due before it was
    claimed (oldest first)."""
    fid = one_off(srv, token, subject="barrier", in_minutes=0)["id"]
    set_clock(srv, token, advance_ms=0)
    poll(lambda: states([fid]) == {fid: "due"}, FIRE_TIMEOUT_S, what="the barrier fired")
    return fid


# ---------------------------------------------------------------- one node, SIGKILL


def test_sigkill_then_restart_fires_each_once_late(start_server):
    user = new_user("fu-restart")
    a = start_server(args=["--node-id", "it-node-25a"])
    uid = user_id(a.port, user.token)
    job = a.post("/api/v1/jobs", token=user.token,
                 body={"company": "Globex", "job_title": "Backend Developer"}).body
    r = a.post(f"/api/v1/ats/jobs/{job['id']}/status", body={"status": "applied"},
               token=user.token)
    assert r.status == 200, r
    early = one_off(a, user.token, subject="Early", in_minutes=10, job_id=job["id"])
    mid = one_off(a, user.token, subject="Mid", in_minutes=60)
    last = one_off(a, user.token, subject="Last", in_minutes=120, priority="high")
    wait_reacted(uid)
    steps = a.get(f"/api/v1/followups?job_id={job['id']}&due_after={wire(parse(last['due_date']))}",
                  token=user.token).body
    assert [f["sequence"] for f in steps] == ["post_application"] * 3, steps

    # The early one fires on A, on time; then A dies without a word.
    set_clock(a, user.token, at=parse(early["due_date"]) + timedelta(seconds=1))
    poll(lambda: states([early["id"]]) == {early["id"]: "due"}, FIRE_TIMEOUT_S,
         what="the early one fired on A")
    a.kill()
    assert a.returncode == -9, a.returncode

    # Down until an hour after the second step: a new node looks at once.
    down = [mid, last, steps[0], steps[1]]
    target = parse(steps[1]["due_date"]) + timedelta(hours=1)
    b = start_server(args=["--node-id", "it-node-25b"])
    now = set_clock(b, user.token, at=target)
    assert abs((now - target).total_seconds()) < 5, now
    poll(lambda: all_due([f["id"] for f in down]), FIRE_TIMEOUT_S, what="the overdue ones fired")
    bar = barrier(b, user.token)
    assert fired([uid]) == {early["id"]: [False], mid["id"]: [True], last["id"]: [True],
                            steps[0]["id"]: [True], steps[1]["id"]: [True], bar: [False]}
    assert states([steps[2]["id"]]) == {steps[2]["id"]: "pending"}

    # The same on the socket, from seq 0: once each, oldest first, late.
    events = check_log(b, user.token, uid)
    due = [e for e in events if e["type"] == "followup.due"]
    assert [e["data"]["followup_id"] for e in due] == \
        [early["id"], mid["id"], last["id"], steps[0]["id"], steps[1]["id"], bar], due
    for e, f in zip(due[1:5], down):
        d = e["data"]
        assert (d["late"], d["due_date"], d["subject"], d["priority"]) == \
            (True, f["due_date"], f["subject"], f["priority"]), e
        assert d["hours_until_due"] < 0, e
    assert due[0]["data"]["late"] is False and -1 < due[0]["data"]["hours_until_due"] <= 0
    listed = b.get("/api/v1/followups/due", token=user.token).body
    assert [(f["id"], f["late"]) for f in listed] == \
        [(f["id"], f["id"] != early["id"]) for f in [early] + down] + [(bar, False)], listed

    # A third node at the same time: nothing fires twice.
    b.stop_clean()
    c = start_server(args=["--node-id", "it-node-25c"])
    set_clock(c, user.token, at=target)
    bar2 = barrier(c, user.token)
    assert fired([uid]) == {early["id"]: [False], mid["id"]: [True], last["id"]: [True],
                            steps[0]["id"]: [True], steps[1]["id"]: [True], bar: [False],
                            bar2: [False]}
    check_log(c, user.token, uid)


def test_sigkill_while_firing(start_server):
    """A node killed while it fires a backlog in small batches: each row has
    fired once by the end, whether before the kill or after the restart."""
    user = new_user("fu-killfire")
    env = base_env(HIREWIRE_FOLLOWUP_BATCH=10)
    a = start_server(env=env, args=["--node-id", "it-node-25d"])
    uid = user_id(a.port, user.token)
    made = [one_off(a, user.token, subject=f"backlog {i}", in_minutes=30 + i % 60)["id"]
            for i in range(300)]
    target = datetime.now(UTC) + timedelta(hours=3)
    set_clock(a, user.token, at=target)
    a.kill()
    assert a.returncode == -9, a.returncode

    b = start_server(env=env, args=["--node-id", "it-node-25e"])
    set_clock(b, user.token, at=target)
    poll(lambda: all_due(made), FIRE_TIMEOUT_S, what="every row of the backlog fired")
    got = fired([uid])
    assert sorted(got) == sorted(made), (len(got), len(made))
    assert all(len(v) == 1 for v in got.values()), {k: v for k, v in got.items() if len(v) > 1}
    assert all(v == [True] for v in got.values())
    check_log(b, user.token, uid)


# ---------------------------------------------------------------- two nodes


def test_two_nodes_fire_each_once(start_server):
    """300 follow-ups of three users; two nodes (batches of 7, so that both
    take part) have their clocks moved past every due time at the same
    moment while the users' own events are posted to both: one followup.due
    per follow-up, and gap-free seqs per user."""
    users = [new_user(f"fu-two-{i}") for i in range(3)]
    setup = start_server(args=["--node-id", "it-node-25f"])
    uids = [user_id(setup.port, u.token) for u in users]
    per_user = 100

    # One at a time: proto.py's schema resolver is not thread-safe.
    made = [one_off(setup, u.token, subject=f"many {i}", in_minutes=20 + i % 90,
                    priority=("high", "normal", "low")[i % 3])["id"]
            for i in range(per_user) for u in users]
    assert len(set(made)) == per_user * len(users)
    setup.stop_clean()

    # Started from this thread: a server gets SIGTERM when the thread that
    # started it ends (conftest's parent-death signal is per thread).
    env = base_env(HIREWIRE_FOLLOWUP_BATCH=7)
    nodes = [start_server(env=env, args=["--node-id", n]) for n in ("it-node-25g", "it-node-25h")]
    target = datetime.now(UTC) + timedelta(hours=2)
    posters = [Poster(n.port, u.token) for u in users for n in nodes]
    go = threading.Barrier(len(nodes) + len(posters))

    def move(srv):
        go.wait()
        return set_clock(srv, users[0].token, at=target)

    def post(p):
        go.wait()
        return [p.post("note.added", "followups", {"i": i}) for i in range(20)]
    try:
        with ThreadPoolExecutor(len(nodes) + len(posters)) as pool:
            moved = [pool.submit(move, n) for n in nodes]
            posted = [pool.submit(post, p) for p in posters]
            nows = [f.result() for f in moved]
            seqs = [f.result() for f in posted]
    finally:
        for p in posters:
            p.close()
    assert abs((nows[0] - nows[1]).total_seconds()) < 5, nows
    assert all(len(s) == 20 for s in seqs)

    poll(lambda: all_due(made), FIRE_TIMEOUT_S, what="all 300 follow-ups fired")
    got = fired(uids)
    assert sorted(got) == sorted(made), (len(got), len(made))
    twice = {k: v for k, v in got.items() if len(v) != 1}
    assert not twice, f"fired more than once: {twice}"
    assert sum(len(v) for v in got.values()) == len(made)
    assert rows(f"SELECT state, count(*) FROM followups WHERE user_id IN "
                f"({','.join(map(str, uids))}) GROUP BY state") == [["due", str(len(made))]]
    for u, uid in zip(users, uids):
        views = [check_log(n, u.token, uid) for n in nodes]
        assert views[0] == views[1]
        due = [e["data"]["followup_id"] for e in views[0] if e["type"] == "followup.due"]
        assert len(due) == per_user and len(set(due)) == per_user
        notes = sorted(e["seq"] for e in views[0] if e["type"] == "note.added")
        mine = sorted(x for p, s in zip(posters, seqs) if p.token == u.token for x in s)
        assert notes == mine, uid
    # Both took part (other users' rows due by then count too).
    per_node = [metrics(n.port).get("hirewire_followups_fired_total", 0) for n in nodes]
    assert all(per_node) and sum(per_node) >= len(made), per_node
