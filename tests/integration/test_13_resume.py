"""Resume: since= on connect and the resume action replay the log after a seq,
then system.resumed, then live events, with no gap and no duplicate, also
while events are being committed (DESIGN §1, proto/asyncapi.yaml)."""

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

from conftest import new_user
from wsutil import Poster, connect, is_event, run


def check_resumed(msg, since, last_seq, replayed):
    assert msg["type"] == "system.resumed", msg
    assert msg["data"] == {"since": since, "last_seq": last_seq, "replayed": replayed,
                           "complete": True, "floor": 0}, msg


async def read_resume(ws, since, final, timeout=120):
    """Messages of a resuming socket up to the event with seq final: the
    events must be exactly since+1..final in order, with one system.resumed
    among them. Returns (events, resumed, index of resumed among events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    events, resumed, at = [], None, None
    while (events[-1]["seq"] if events else since) < final or resumed is None:
        left = deadline - loop.time()
        assert left > 0, (f"since={since}: seq {final} and system.resumed not reached in "
                          f"{timeout} s; last {[e['seq'] for e in events[-5:]]}, "
                          f"resumed {resumed}")
        msg = await ws.recv(left)
        if is_event(msg):
            want = events[-1]["seq"] + 1 if events else since + 1
            assert msg["seq"] == want <= final, (
                f"since={since}: expected seq {want} (up to {final}), got {msg['seq']} "
                f"after {[e['seq'] for e in events[-5:]]}")
            events.append(msg)
        else:
            assert msg["type"] == "system.resumed" and resumed is None, msg
            resumed, at = msg, len(events)
    return events, resumed, at


def test_resume_after_disconnect(server, user):
    poster = Poster(server.port, user.token)

    async def go():
        async with connect(server.port, token=user.token, channels="jobs") as ws:
            seqs = [await poster.apost("note.added", "jobs", {"i": i}) for i in range(3)]
            got = await ws.events_until(seqs[-1])
            assert [m["seq"] for m in got] == seqs
        last_seen = seqs[-1]
        missed = [await poster.apost("note.added", "jobs", {"i": i}) for i in range(3, 8)]
        async with connect(server.port, token=user.token, channels="jobs",
                           since=last_seen) as ws:
            assert ws.connected["data"]["channels"] == ["jobs"]
            got = [await ws.event() for _ in missed]
            assert [(m["seq"], m["data"]) for m in got] == \
                [(s, {"i": i}) for s, i in zip(missed, range(3, 8))]
            check_resumed(await ws.recv(), last_seen, missed[-1], len(missed))
            live = await poster.apost("note.added", "jobs", {"i": 8})
            ev = await ws.event()
            assert (ev["seq"], ev["data"]) == (live, {"i": 8}), ev
            assert await ws.sync() == []
    try:
        run(go())
    finally:
        poster.close()


def test_resume_with_nothing_missed(server, user):
    poster = Poster(server.port, user.token)

    async def go():
        async with connect(server.port, token=user.token, since=0) as ws:
            check_resumed(await ws.recv(), 0, 0, 0)
        s = await poster.apost("note.added", "jobs", {})
        async with connect(server.port, token=user.token, since=s) as ws:
            check_resumed(await ws.recv(), s, s, 0)
            s2 = await poster.apost("note.added", "jobs", {})
            assert (await ws.event())["seq"] == s2
        # A live-only connection gets no system.resumed.
        async with connect(server.port, token=user.token) as ws:
            s3 = await poster.apost("note.added", "jobs", {})
            assert (await ws.event())["seq"] == s3
            assert await ws.sync() == []
    try:
        run(go())
    finally:
        poster.close()


def test_resume_action_on_open_socket(server, user):
    poster = Poster(server.port, user.token)

    async def go():
        async with connect(server.port, token=user.token, channels="jobs,skills") as ws:
            seqs = [await poster.apost("note.added", "jobs" if i % 2 else "skills", {"i": i})
                    for i in range(6)]
            got = await ws.events_until(seqs[-1])
            assert [m["seq"] for m in got] == seqs
            since = seqs[1]
            await ws.send({"action": "resume", "since": since})
            again = [await ws.event() for _ in seqs[2:]]
            assert [(m["seq"], m["data"]) for m in again] == \
                [(s, {"i": i}) for s, i in zip(seqs[2:], range(2, 6))]
            check_resumed(await ws.recv(), since, seqs[-1], 4)
            live = await poster.apost("note.added", "jobs", {"i": 6})
            ev = await ws.event()
            assert ev["seq"] == live, ev
            assert await ws.sync() == []
    try:
        run(go())
    finally:
        poster.close()


def test_channel_filtered_replay(server, user):
    poster = Poster(server.port, user.token)
    channels = ["jobs", "skills", "research", "interviews"]

    async def go():
        posted = [(await poster.apost("note.added", channels[i % 4], {"i": i}), channels[i % 4])
                  for i in range(16)]
        async with connect(server.port, token=user.token, channels="jobs,research",
                           since=0) as ws:
            want = [(s, c) for s, c in posted if c in ("jobs", "research")]
            got = [await ws.event() for _ in want]
            assert [(m["seq"], m["channel"]) for m in got] == want
            check_resumed(await ws.recv(), 0, posted[-1][0], len(want))
            # Live events keep the filter.
            await poster.apost("note.added", "skills", {})
            s = await poster.apost("note.added", "research", {})
            assert (await ws.event())["seq"] == s
            assert await ws.sync() == []
    try:
        run(go())
    finally:
        poster.close()


def test_long_replay_in_pages(server):
    """More events than one replay page (500) and than half the queue's soft
    limit, so the replay reads several pages and waits for the socket."""
    user = new_user("longreplay")
    posters = [Poster(server.port, user.token) for _ in range(4)]
    n = 1300
    try:
        with ThreadPoolExecutor(len(posters)) as pool:
            seqs = sorted(pool.map(lambda i: posters[i % 4].post("note.added", "jobs", {"i": i}),
                                   range(n)))
        assert seqs == list(range(1, n + 1))

        async def go():
            async with connect(server.port, token=user.token, channels="jobs", since=0) as ws:
                events, resumed, at = await read_resume(ws, 0, n)
                check_resumed(resumed, 0, n, n)
                assert at == n
                live = await posters[0].apost("note.added", "jobs", {})
                assert (await ws.event())["seq"] == live
        run(go())
    finally:
        for p in posters:
            p.close()


def test_resume_racing_live_publishes(server):
    """A writer commits events without pause while clients connect with since=
    at different points: each client sees every seq after its since exactly
    once, in order, without a gap, across the replay/live hand-over."""
    user = new_user("race")
    total = 400
    clients = 8
    writers = [Poster(server.port, user.token) for _ in range(2)]
    rng = random.Random(1234)
    state = {"last": 0}

    async def writer(p, count):
        for i in range(count):
            s = await p.apost("note.added", "jobs", {"i": i})
            state["last"] = max(state["last"], s)

    async def client(k):
        # Connect once the writer is k/clients of the way through, resuming
        # from somewhere in what was committed so far.
        target = (k * total) // (clients + 1)
        while state["last"] < target:
            await asyncio.sleep(0.01)
        since = rng.randint(max(0, state["last"] - 60), state["last"])
        async with connect(server.port, token=user.token, channels="jobs", since=since) as ws:
            events, resumed, at = await read_resume(ws, since, total, timeout=300)
            assert resumed["data"]["since"] == since, resumed
            assert resumed["data"]["complete"] is True and resumed["data"]["floor"] == 0
            assert resumed["data"]["replayed"] <= at, (resumed, at)
            if at:
                assert resumed["data"]["last_seq"] == events[at - 1]["seq"], (resumed, at)
            assert await ws.sync() == []
            return since, len(events)

    async def go():
        tasks = [asyncio.create_task(client(k)) for k in range(clients)]
        await asyncio.gather(*(writer(p, total // len(writers)) for p in writers))
        assert state["last"] == total, state
        results = await asyncio.gather(*tasks)
        for since, n in results:
            assert n == total - since, (since, n)
    try:
        run(go(), timeout=400)
    finally:
        for p in writers:
            p.close()
