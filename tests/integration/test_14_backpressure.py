"""Back-pressure: a socket that does not read is closed once its bounded queue
is over the limit, while a reading client of the same user gets every event
and the server's memory stays bounded (proto/asyncapi.yaml, Back-pressure)."""

import asyncio
import json
import os
import socket
import threading
import time

from conftest import base_env, new_user, poll
from wsutil import Poster, check_message, connect, metrics, parse_frames, raw_ws_open, run

LIMITS = ["--ws-queue-soft-msgs", "50", "--ws-queue-hard-msgs", "200", "--ws-soft-grace-s", "1",
          "--ws-queue-soft-bytes", "64KiB", "--ws-queue-hard-bytes", "256KiB"]
PAD = "x" * 1000  # ~1 KiB events
CLOSE_S = 60.0
RSS_GROWTH_MAX = 64 << 20


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_stalled(port, token):
    """A raw WebSocket with a tiny receive buffer: reads up to system.connected,
    then nothing. Returns the socket and the bytes after that message."""
    s, buf = raw_ws_open(port, f"/api/v1/ws?token={token}&channels=jobs", rcvbuf=4096)
    while True:
        frames, rest = parse_frames(buf)
        if frames:
            assert len(frames) == 1, frames  # nothing was posted yet
            op, payload = frames[0]
            assert op == 1, frames[0]
            msg = check_message(json.loads(payload))
            assert msg["type"] == "system.connected", msg
            return s, rest
        chunk = s.recv(4096)
        assert chunk, "closed before system.connected"
        buf += chunk


def drain(s, timeout):
    """Everything the peer still sends until it closes: (bytes, how it ended)."""
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    out = b""
    while True:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = s.recv(1 << 16)
        except ConnectionResetError:
            return out, "reset"
        except socket.timeout:
            raise AssertionError(f"the server did not close within {timeout} s "
                                 f"({len(out)} bytes read)") from None
        if not chunk:
            return out, "eof"
        out += chunk


def check_stream(frames, first_seq=None):
    """Complete frames of a cut stream: text events with consecutive seqs,
    then possibly system.lagging and a close frame. Returns (seqs, lagging, close)."""
    seqs, lagging, close = [], None, None
    for op, payload in frames:
        assert close is None, "a frame after the close frame"
        if op == 8:
            close = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            continue
        assert op == 1, (op, payload[:80])
        msg = check_message(json.loads(payload))
        if "seq" in msg:
            assert lagging is None, "an event after system.lagging"
            if seqs:
                assert msg["seq"] == seqs[-1] + 1, (seqs[-1], msg["seq"])
            seqs.append(msg["seq"])
        else:
            assert msg["type"] == "system.lagging", msg
            lagging = msg
    return seqs, lagging, close


class Flood:
    """Threads posting ~1 KiB events of one user on jobs until stopped (or
    until cap): the server's and the kernel's buffers of a stalled socket
    are large on loopback, so the tests post until the server gives up."""

    def __init__(self, port, token, threads=4, cap=40000):
        self.posters = [Poster(port, token) for _ in range(threads)]
        self.cap = cap
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.n = 0
        self.seqs = []
        self.errors = []
        self.threads = [threading.Thread(target=self._work, args=(p,)) for p in self.posters]
        for t in self.threads:
            t.start()

    def _work(self, poster):
        try:
            while not self.stop.is_set():
                with self.lock:
                    if self.n >= self.cap:
                        return
                    i = self.n
                    self.n += 1
                seq = poster.post("note.added", "jobs", {"i": i, "pad": PAD})
                with self.lock:
                    self.seqs.append(seq)
        except BaseException as e:  # reported by finish()
            self.errors.append(e)

    def count(self):
        with self.lock:
            return len(self.seqs)

    def finish(self):
        """Stops; returns the sorted seqs, which must be 1..n."""
        self.stop.set()
        for t in self.threads:
            t.join()
        for p in self.posters:
            p.close()
        if self.errors:
            raise self.errors[0]
        seqs = sorted(self.seqs)
        assert seqs == list(range(1, len(seqs) + 1)), "posted seqs are not 1..n"
        return seqs


def lagging_closed(port):
    return metrics(port).get("hirewire_ws_lagging_closed_total", 0)


async def apoll(fn, timeout, interval=0.05, what="condition"):
    """poll() for coroutines: fn runs in a thread, the loop keeps serving."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(fn)
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


async def read_all(ws, state):
    """Events of ws until state["final"] is set and reached; checks they are
    1, 2, 3, ... without a gap. A system.pong (the wake-up sent once final is
    set) is noted in state["pong"]."""
    got = []
    while state.get("final") is None or not got or got[-1]["seq"] < state["final"]:
        try:
            msg = await ws.recv(timeout=120)
        except AssertionError as e:
            raise AssertionError(f"{e}: after seq {len(got)}, final {state.get('final')}") \
                from None
        if msg["type"] == "system.pong" and "final" in state and not state.get("pong"):
            state["pong"] = True
            continue
        assert "seq" in msg, f"expected an event, got {msg}"
        assert msg["seq"] == len(got) + 1, (len(got), msg["seq"])
        got.append(msg)
    return got


def server_env():
    # AddressSanitizer keeps freed memory in a quarantine (256 MiB by default)
    # that would dwarf the server's own growth; keep it small here.
    opts = os.environ.get("ASAN_OPTIONS", "")
    return base_env(ASAN_OPTIONS=(opts + ":" if opts else "") + "quarantine_size_mb=16")


def test_stalled_socket_is_closed_reader_gets_everything(start_server):
    srv = start_server(args=LIMITS, env=server_env())
    u = new_user("slow")
    pid = srv.proc.pid
    stalled, _ = open_stalled(srv.port, u.token)
    try:
        async def go():
            async with connect(srv.port, token=u.token, channels="jobs") as reader:
                m = metrics(srv.port)
                assert m["hirewire_ws_connections"] == 2, m
                assert m.get("hirewire_ws_lagging_closed_total", 0) == 0, m
                rss0 = vm_rss(pid)
                state = {}
                task = asyncio.create_task(read_all(reader, state))
                flood = Flood(srv.port, u.token)
                try:
                    await apoll(lambda: lagging_closed(srv.port) >= 1 or task.done(), 300,
                                what="the stalled socket to be closed for lagging")
                    # Keep going for a while after the close.
                    n = flood.count()
                    await apoll(lambda: flood.count() >= n + 500, 120, what="500 more events")
                finally:
                    seqs = await asyncio.to_thread(flood.finish)
                state["final"] = seqs[-1]
                await reader.send({"action": "ping"})
                got = await task
                if not state.get("pong"):
                    await reader.expect("system.pong")
                assert len(seqs) >= 2000, len(seqs)
                assert [m["seq"] for m in got] == seqs
                assert sorted(m["data"]["i"] for m in got) == list(range(len(seqs)))
                assert all(m["data"]["pad"] == PAD for m in got)
                assert await reader.sync() == []

                # The stalled socket was dropped on the server's side...
                await apoll(lambda: metrics(srv.port)["hirewire_ws_connections"] == 1, CLOSE_S,
                            what="the stalled connection to be gone")
                assert lagging_closed(srv.port) == 1
                growth = vm_rss(pid) - rss0
                assert growth < RSS_GROWTH_MAX, f"RSS grew by {growth >> 20} MiB"
                # ...and the reader is still served.
                p = Poster(srv.port, u.token)
                s = await p.apost("note.added", "jobs", {"i": -1})
                p.close()
                assert (await reader.event())["seq"] == s
        run(go(), timeout=600)

        # The stalled client sees the end of its stream: what was in flight,
        # cut short, then EOF (or a reset).
        data, how = drain(stalled, CLOSE_S)
        frames, _ = parse_frames(data)
        seqs, _, _ = check_stream(frames)
        assert seqs and seqs[0] == 1, seqs[:3]
        assert how in ("eof", "reset")
    finally:
        stalled.close()
    srv.stop_clean()


def test_slow_reader_gets_lagging_and_1013(start_server):
    """A client that stops reading and reads again once the server gave up on
    it gets what was queued, system.lagging and close 1013, then resumes."""
    srv = start_server(args=LIMITS, env=server_env())
    u = new_user("lag")
    s, rest = open_stalled(srv.port, u.token)
    try:
        flood = Flood(srv.port, u.token)
        try:
            poll(lambda: lagging_closed(srv.port) >= 1, 300, interval=0.02,
                 what="the lagging close")
            # The server flushes its queue for 2 s before it kills the socket.
            data, how = drain(s, CLOSE_S)
        finally:
            posted = flood.finish()
        frames, tail = parse_frames(rest + data)
        assert tail == b"", f"{len(tail)} bytes of a cut frame"
        seqs, lagging, close = check_stream(frames)
        assert seqs and seqs[0] == 1 and seqs[-1] < posted[-1], (seqs[:3], posted[-1])
        assert lagging is not None, "no system.lagging"
        assert lagging["data"]["queued_messages"] > 50 or \
            lagging["data"]["queued_bytes"] > 64 * 1024, lagging
        assert close == 1013, close
        assert how == "eof"
    finally:
        s.close()

    # The client resumes where its socket stopped.
    async def go():
        async with connect(srv.port, token=u.token, channels="jobs", since=seqs[-1]) as ws:
            got = await ws.events_until(posted[-1], timeout=120)
            assert [m["seq"] for m in got] == list(range(seqs[-1] + 1, posted[-1] + 1))
            r = await ws.expect("system.resumed")
            assert r["data"]["replayed"] == posted[-1] - seqs[-1], r
    run(go())
    srv.stop_clean()
