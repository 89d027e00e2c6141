"""Redis goes away between two nodes and comes back: events committed on A
meanwhile are accepted, and the client on B gets every one of them once the
broker is back, in order, without a gap or a duplicate (the node catches up
from the log; pub/sub forgot them)."""

from conftest import new_user, poll, services
from wsutil import Poster, connect, run

NODES = ("it-node-16a", "it-node-16b")
RECOVERY_S = 60.0


def broker(srv, node_id):
    r = srv.get("/api/v1/integrations/health")
    assert r.status == 200, r
    assert r.body["node_id"] == node_id and r.body["checks"]["broker"]["node_id"] == node_id
    return r.body["checks"]["broker"]["status"]


def test_redis_restart_between_nodes(start_server):
    a = start_server(args=["--node-id", NODES[0]])
    b = start_server(args=["--node-id", NODES[1]])
    for srv, node_id in ((a, NODES[0]), (b, NODES[1])):
        poll(lambda: broker(srv, node_id) == "up", RECOVERY_S, what=f"broker up on {node_id}")
    u = new_user("redisgap")
    pa, pb = Poster(a.port, u.token), Poster(b.port, u.token)

    async def go():
        async with connect(b.port, token=u.token, channels="jobs,skills") as on_b:
            before = [await pa.apost("note.added", "jobs", {"phase": "before", "i": i})
                      for i in range(5)]
            got = await on_b.events_until(before[-1])
            assert [m["seq"] for m in got] == before

            during = []
            services("redis-stop")
            try:
                for srv, node_id in ((a, NODES[0]), (b, NODES[1])):
                    poll(lambda: broker(srv, node_id) == "down", RECOVERY_S,
                         what=f"broker down on {node_id}")
                for i in range(30):
                    # Both nodes keep accepting events; B's own go straight
                    # to its socket, A's wait for the broker.
                    p, ch = (pa, "jobs") if i % 3 else (pb, "skills")
                    during.append(await p.apost("note.added", ch, {"phase": "during", "i": i}))
                assert during == list(range(before[-1] + 1, before[-1] + 31)), during
                assert a.proc.poll() is None and b.proc.poll() is None
            finally:
                services("redis-start")

            got = await on_b.events_until(during[-1], timeout=RECOVERY_S)
            assert [(m["seq"], m["data"]) for m in got] == \
                [(s, {"phase": "during", "i": i}) for i, s in enumerate(during)]

            for srv, node_id in ((a, NODES[0]), (b, NODES[1])):
                poll(lambda: broker(srv, node_id) == "up", RECOVERY_S,
                     what=f"broker up again on {node_id}")
            # Live again through Redis; whatever A still had to publish came
            # before and was not delivered twice.
            after = await pa.apost("note.added", "jobs", {"phase": "after"})
            assert after == during[-1] + 1
            ev = await on_b.event(timeout=RECOVERY_S)
            assert (ev["seq"], ev["data"]) == (after, {"phase": "after"}), ev
            assert await on_b.sync() == []
    try:
        run(go(), timeout=400)
    finally:
        pa.close()
        pb.close()
    a.stop_clean()
    b.stop_clean()
