"""A connection only ever sees its own user's events (DESIGN §3)."""

from conftest import new_user
from wsutil import CHANNELS, Poster, check_connected, connect, job_created, run, user_id

ALL = ",".join(CHANNELS)


def test_each_socket_sees_only_its_user(server):
    a, b = new_user("isoa"), new_user("isob")
    ida, idb = user_id(server.port, a.token), user_id(server.port, b.token)
    assert ida != idb
    pa, pb = Poster(server.port, a.token), Poster(server.port, b.token)
    plan = []  # (owner, type, channel, data)
    for i in range(12):
        ch = CHANNELS[i % len(CHANNELS)]
        plan.append(("a", "note.added", ch, {"owner": "a", "i": i}))
        plan.append(("b", "note.added", ch, {"owner": "b", "i": i}))
    plan.append(("a", "job.created", "jobs", job_created(1, company="A")))
    plan.append(("b", "job.created", "jobs", job_created(1, company="B")))

    async def go():
        async with connect(server.port, token=a.token, channels=ALL) as a1, \
                connect(server.port, header_token=a.token, channels=ALL) as a2, \
                connect(server.port, cap_token=b.token, channels=ALL) as b1, \
                connect(server.port, token=b.token, channels=ALL,
                        path=f"/api/v1/ws?user_id={ida}") as b2:
            for ws, uid in ((a1, ida), (a2, ida), (b1, idb), (b2, idb)):
                check_connected(ws.connected, uid, CHANNELS)
            sent = {"a": [], "b": []}
            for owner, type_, ch, data in plan:
                seq = await (pa if owner == "a" else pb).apost(type_, ch, data)
                sent[owner].append((seq, type_, ch, data))
            for owner, sockets in (("a", (a1, a2)), ("b", (b1, b2))):
                want = sent[owner]
                for ws in sockets:
                    got = await ws.events_until(want[-1][0])
                    assert [(m["seq"], m["type"], m["channel"], m["data"]) for m in got] == want
                    # Nothing else is pending for this socket.
                    assert await ws.sync() == []
    try:
        run(go())
    finally:
        pa.close()
        pb.close()


def test_user_id_query_is_ignored(server):
    a, b = new_user("isoq"), new_user("isoq")
    ida, idb = user_id(server.port, a.token), user_id(server.port, b.token)
    pa, pb = Poster(server.port, a.token), Poster(server.port, b.token)

    async def go():
        async with connect(server.port, token=a.token, channels="jobs",
                           path=f"/api/v1/ws?user_id={idb}") as ws:
            check_connected(ws.connected, ida, ["jobs"])
            await pb.apost("note.added", "jobs", {"owner": "b"})
            sa = await pa.apost("note.added", "jobs", {"owner": "a"})
            ev = await ws.event()
            assert (ev["seq"], ev["data"]) == (sa, {"owner": "a"}), ev
            assert await ws.sync() == []
    try:
        run(go())
    finally:
        pa.close()
        pb.close()
