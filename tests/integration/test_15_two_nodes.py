"""Two nodes on one PostgreSQL and one Redis (DESIGN §5): events reach the
sockets of either node, in the same seq order on both."""

import asyncio

import pytest

from conftest import ServerFactory, new_user, poll
from wsutil import Poster, connect, run

NODES = ("it-node-15a", "it-node-15b")
BROKER_UP_S = 30.0


def broker_up(srv, node_id):
    r = srv.get("/api/v1/integrations/health")
    assert r.status == 200, r
    assert r.body["node_id"] == node_id, r.body
    broker = r.body["checks"]["broker"]
    assert broker["node_id"] == node_id, r.body
    return r.body if broker["status"] == "up" else None


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp("nodes"))
    a = factory(args=["--node-id", NODES[0]])
    b = factory(args=["--node-id", NODES[1]])
    yield a, b
    factory.stop_all()


def test_health_names_each_node_and_broker_up(nodes):
    for srv, node_id in zip(nodes, NODES):
        body = poll(lambda: broker_up(srv, node_id), BROKER_UP_S, what=f"broker up on {node_id}")
        assert body["checks"]["redis"]["status"] == "up", body


def test_event_posted_to_a_reaches_b(nodes):
    a, b = nodes
    for srv, node_id in zip(nodes, NODES):
        poll(lambda: broker_up(srv, node_id), BROKER_UP_S, what=f"broker up on {node_id}")
    u = new_user("twonode")
    pa, pb = Poster(a.port, u.token), Poster(b.port, u.token)

    async def go():
        async with connect(b.port, token=u.token, channels="jobs,skills") as on_b, \
                connect(a.port, token=u.token, channels="jobs,skills") as on_a:
            assert on_b.connected["data"]["node_id"] == NODES[1]
            assert on_a.connected["data"]["node_id"] == NODES[0]
            s1 = await pa.apost("note.added", "jobs", {"from": "a"})
            ev = await on_b.event()
            assert (ev["seq"], ev["type"], ev["channel"], ev["data"]) == \
                (s1, "note.added", "jobs", {"from": "a"}), ev
            s2 = await pb.apost("gap.noted", "skills", {"from": "b"})
            assert s2 == s1 + 1
            for ws in (on_a, on_b):
                got = await ws.events_until(s2)
                assert [(m["seq"], m["data"]) for m in got] == \
                    ([(s1, {"from": "a"})] if ws is on_a else []) + [(s2, {"from": "b"})]
    try:
        run(go())
    finally:
        pa.close()
        pb.close()


def test_burst_on_both_nodes_same_order(nodes):
    """200 events posted concurrently to A and B: a dashboard on each node
    sees seqs 1..200, each once, in order; the data matches what was posted."""
    a, b = nodes
    for srv, node_id in zip(nodes, NODES):
        poll(lambda: broker_up(srv, node_id), BROKER_UP_S, what=f"broker up on {node_id}")
    u = new_user("burst")
    pa, pb = Poster(a.port, u.token), Poster(b.port, u.token)
    n = 200
    posted = {}

    async def writer(p, name, idx):
        for i in idx:
            seq = await p.apost("note.added", "jobs", {"node": name, "i": i})
            posted[seq] = {"node": name, "i": i}

    async def go():
        async with connect(a.port, token=u.token, channels="jobs") as da, \
                connect(b.port, token=u.token, channels="jobs") as db:
            await asyncio.gather(writer(pa, "a", range(0, n, 2)), writer(pb, "b", range(1, n, 2)))
            assert sorted(posted) == list(range(1, n + 1)), sorted(posted)[:10]
            views = []
            for ws in (da, db):
                got = await ws.events_until(n, timeout=120)
                assert [m["seq"] for m in got] == list(range(1, n + 1))
                assert all(m["data"] == posted[m["seq"]] for m in got)
                assert await ws.sync() == []
                views.append([(m["seq"], m["data"]["node"], m["data"]["i"]) for m in got])
            assert views[0] == views[1]
    try:
        run(go())
    finally:
        pa.close()
        pb.close()


def test_resume_on_the_other_node(nodes):
    """The log is shared: a client that saw events on A resumes on B."""
    a, b = nodes
    u = new_user("resumeb")
    pa = Poster(a.port, u.token)

    async def go():
        async with connect(a.port, token=u.token, channels="jobs") as ws:
            s = [await pa.apost("note.added", "jobs", {"i": i}) for i in range(3)]
            got = await ws.events_until(s[-1])
            assert [m["seq"] for m in got] == s
        missed = [await pa.apost("note.added", "jobs", {"i": i}) for i in range(3, 6)]
        async with connect(b.port, token=u.token, channels="jobs", since=s[-1]) as ws:
            got = [await ws.event() for _ in missed]
            assert [m["seq"] for m in got] == missed
            r = await ws.expect("system.resumed")
            assert r["data"]["replayed"] == 3 and r["data"]["last_seq"] == missed[-1], r
            live = await pa.apost("note.added", "jobs", {"i": 6})
            assert (await ws.event())["seq"] == live
    try:
        run(go())
    finally:
        pa.close()
