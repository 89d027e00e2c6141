"""WebSocket side of the integration tests: an asyncio client of /api/v1/ws
that checks every message it receives against proto/schemas, event posting
through POST /api/v1/events, and reading /metrics.

Every message a client receives goes through check_message(): an event (it
has a seq) against schemas/event_envelope.json and its data against
schemas/events/TYPE.json when TYPE is in the table, schemas/events/custom.json
otherwise; anything else against schemas/system_message.json. The types seen
are recorded in `seen`."""

import asyncio
import http.client
import json
import re
import socket
import threading
from pathlib import Path

import jsonschema
import websockets
import websockets.exceptions

from conftest import HTTP_TIMEOUT_S, Response, request

PROTO = Path(__file__).resolve().parents[2] / "proto"
SCHEMAS = PROTO / "schemas"

# Deadlines (not sleeps) for a loaded two-core machine running the server
# under AddressSanitizer.
CONNECT_TIMEOUT_S = 20.0
RECV_TIMEOUT_S = 20.0

CHANNELS = ["jobs", "applications", "interviews", "followups", "skills", "recommendations",
            "research", "system"]
DEFAULT_CHANNELS = [c for c in CHANNELS if c != "system"]

SYSTEM_TYPES = {"system.connected", "system.subscribed", "system.unsubscribed", "system.pong",
                "system.ping", "system.stats", "system.channels", "system.resumed",
                "system.lagging", "system.error"}

# (kind, type) of every message received during the run: kind is "event" or "system".
seen = set()


def _load_store():
    store = {}
    for f in sorted(SCHEMAS.glob("*.json")) + sorted((SCHEMAS / "events").glob("*.json")):
        store[f.as_uri()] = json.loads(f.read_text())
    return store


_STORE = _load_store()
EVENT_TYPES = {p.stem for p in (SCHEMAS / "events").glob("*.json")} - {"custom"}


def _validator(path):
    uri = path.as_uri()
    schema = _STORE[uri]
    resolver = jsonschema.RefResolver(base_uri=uri, referrer=schema, store=_STORE)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


ENVELOPE = _validator(SCHEMAS / "event_envelope.json")
SYSTEM = _validator(SCHEMAS / "system_message.json")
PAYLOADS = {p.stem: _validator(p) for p in (SCHEMAS / "events").glob("*.json")}


def _validate(validator, doc, what):
    try:
        validator.validate(doc)
    except jsonschema.ValidationError as e:
        where = "/".join(map(str, e.absolute_path)) or "(root)"
        raise AssertionError(f"{what} does not match proto/schemas: at {where}: {e.message}\n"
                             f"message: {json.dumps(doc)[:1500]}") from None


def check_event(msg):
    """An event envelope, and its data by type."""
    _validate(ENVELOPE, msg, "event")
    assert msg["id"] == msg["seq"], msg
    t = msg["type"]
    _validate(PAYLOADS[t if t in EVENT_TYPES else "custom"], msg["data"], f"data of {t}")
    seen.add(("event", t))
    return msg


def check_system(msg):
    _validate(SYSTEM, msg, "system message")
    assert "seq" not in msg and "id" not in msg, msg
    seen.add(("system", msg["type"]))
    return msg


def check_message(msg):
    assert isinstance(msg, dict), msg
    if "seq" in msg or "id" in msg:
        return check_event(msg)
    return check_system(msg)


def is_event(msg):
    return "seq" in msg


# ---------------------------------------------------------------- HTTP side


class Poster:
    """Posts events of one user over one keep-alive HTTP connection (a new
    one when the server closed it). Thread-safe."""

    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.conn = None
        self.lock = threading.Lock()

    def raw(self, body, **kw):
        with self.lock:
            for attempt in (0, 1):
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                           timeout=HTTP_TIMEOUT_S)
                try:
                    return request(self.port, "POST", "/api/v1/events", body=body,
                                   token=self.token, conn=self.conn, **kw)
                except (OSError, http.client.HTTPException):
                    self.conn.close()
                    self.conn = None
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    def post(self, type_, channel, data):
        """Appends one event; returns its seq (after checking the 202)."""
        r = self.raw({"type": type_, "channel": channel, "data": data})
        assert r.status == 202, f"POST /api/v1/events: {r.status} {r.body!r}"
        assert r.body == {"id": r.body["seq"], "seq": r.body["seq"], "type": type_,
                          "channel": channel}, r.body
        return r.body["seq"]

    async def apost(self, type_, channel, data):
        return await asyncio.to_thread(self.post, type_, channel, data)

    def close(self):
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


def job_created(i, company="Acme"):
    """A job.created payload that matches events/job.created.json."""
    return {"job_id": i, "company": company, "job_title": f"C programmer {i}",
            "location": "Remote", "source": "linkedin"}


def user_id(port, token):
    r = request(port, "GET", "/api/v1/me", token=token)
    assert r.status == 200, r
    return r.body["user_id"]


_METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def metrics(port):
    """{name: sum over label sets} from GET /metrics."""
    r = request(port, "GET", "/metrics")
    assert r.status == 200, r
    out = {}
    for line in r.body.splitlines():
        m = _METRIC_RE.match(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out


# ---------------------------------------------------------------- WebSocket side


def ws_url(port, path="/api/v1/ws", **query):
    q = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
    if q:
        path += ("&" if "?" in path else "?") + q
    return f"ws://127.0.0.1:{port}{path}"


class Closed(Exception):
    """The server closed the connection; code and reason of its close frame."""

    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code = code
        self.reason = reason


class Ws:
    """One client connection. Use through `async with connect(...) as ws`."""

    def __init__(self, conn):
        self.conn = conn
        self.connected = None  # the system.connected message

    async def send(self, obj):
        await self.conn.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def recv(self, timeout=RECV_TIMEOUT_S):
        """The next message, checked against proto/. Raises Closed."""
        try:
            text = await asyncio.wait_for(self.conn.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no message within {timeout} s") from None
        except websockets.exceptions.ConnectionClosed as e:
            raise Closed(e.rcvd.code if e.rcvd else None,
                         e.rcvd.reason if e.rcvd else None) from None
        assert isinstance(text, str), f"binary message: {text!r}"
        return check_message(json.loads(text))

    async def expect(self, type_, timeout=RECV_TIMEOUT_S):
        """The next message, which must be of type_."""
        msg = await self.recv(timeout)
        assert msg["type"] == type_, f"expected {type_}, got {msg}"
        return msg

    async def event(self, timeout=RECV_TIMEOUT_S):
        """The next message, which must be an event."""
        msg = await self.recv(timeout)
        assert is_event(msg), f"expected an event, got {msg}"
        return msg

    async def events_until(self, seq, timeout=RECV_TIMEOUT_S * 3):
        """Events up to and including seq (nothing else may come), checking
        that seqs strictly increase."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        out = []
        while not out or out[-1]["seq"] < seq:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"events up to seq {seq} not received within {timeout} s; "
                                     f"got {[m['seq'] for m in out][-20:]}")
            msg = await self.event(left)
            if out:
                assert msg["seq"] > out[-1]["seq"], (out[-1]["seq"], msg["seq"])
            out.append(msg)
        assert out[-1]["seq"] == seq, f"seq {seq} was skipped: got {out[-1]['seq']}"
        return out

    async def sync(self):
        """ping, and everything received before the pong (which is dropped)."""
        await self.send({"action": "ping"})
        out = []
        while True:
            msg = await self.recv()
            if msg["type"] == "system.pong":
                return out
            out.append(msg)

    async def wait_closed(self, timeout=RECV_TIMEOUT_S):
        """Messages until the server closes; returns (messages, code)."""
        out = []
        while True:
            try:
                out.append(await self.recv(timeout))
            except Closed as e:
                return out, e.code

    async def close(self):
        await self.conn.close()


class connect:
    """async with connect(port, token=T, channels="jobs", since=5) as ws: ...
    token= goes in the query; header_token= as Authorization; cap_token= as
    the /u/TOKEN prefix. The first message must be system.connected (kept in
    ws.connected) unless expect_connected is False."""

    def __init__(self, port, *, token=None, header_token=None, cap_token=None, channels=None,
                 since=None, path="/api/v1/ws", expect_connected=True, max_queue=1 << 16):
        if cap_token:
            path = f"/u/{cap_token}{path}"
        self.url = ws_url(port, path, channels=channels, token=token, since=since)
        self.headers = {"Authorization": f"Bearer {header_token}"} if header_token else {}
        self.expect_connected = expect_connected
        self.max_queue = max_queue
        self.ws = None

    async def __aenter__(self):
        conn = await websockets.connect(self.url, extra_headers=self.headers,
                                        open_timeout=CONNECT_TIMEOUT_S, ping_interval=None,
                                        close_timeout=5, max_size=1 << 22,
                                        max_queue=self.max_queue)
        self.ws = Ws(conn)
        if self.expect_connected:
            self.ws.connected = await self.ws.expect("system.connected")
        return self.ws

    async def __aexit__(self, *exc):
        await self.ws.conn.close()


async def replay_async(port, token, since=0, channels=None):
    """The user's events after since, as a resuming connection receives them
    (each checked against proto/schemas), and the data of the system.resumed
    that ends the replay."""
    events = []
    channels = channels if channels is not None else ",".join(DEFAULT_CHANNELS)
    async with connect(port, token=token, channels=channels, since=since) as ws:
        while True:
            msg = await ws.recv()
            if is_event(msg):
                events.append(msg)
            else:
                assert msg["type"] == "system.resumed", msg
                return events, msg["data"]


def replay(port, token, since=0, channels=None):
    """The events of replay_async(), from synchronous code."""
    return run(replay_async(port, token, since, channels))[0]


def check_connected(msg, uid, channels):
    """system.connected: connection_id on top and in data, the user, the channels."""
    assert msg["type"] == "system.connected", msg
    data = msg["data"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        msg["connection_id"]), msg
    assert data["connection_id"] == msg["connection_id"], msg
    assert data["user_id"] == uid, msg
    assert sorted(data["channels"]) == sorted(channels), msg
    assert isinstance(data["message"], str) and data["message"], msg
    return msg


def run(coro, timeout=300):
    """Runs a test coroutine with an overall deadline."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


# ---------------------------------------------------------------- raw socket


def raw_ws_open(port, path, rcvbuf=None, timeout=CONNECT_TIMEOUT_S):
    """A WebSocket handshake over a plain socket that the caller then reads
    (or does not). rcvbuf sets SO_RCVBUF before connecting. Returns the socket
    and whatever arrived after the 101 response headers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed during the handshake: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s, rest


def raw_upgrade(port, path, headers=None, timeout=CONNECT_TIMEOUT_S):
    """An upgrade request the server is expected to refuse: Response(status,
    lower-cased headers, JSON body or text) of its HTTP answer."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            head, _, body = buf.partition(b"\r\n\r\n")
            if _ and b"content-length:" in head.lower():
                n = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                if len(body) >= n:
                    break
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, f"bad status line: {lines[0]!r}"
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    text = body.decode("utf-8", errors="replace")
    if hdrs.get("content-type", "").startswith("application/json"):
        return Response(int(m.group(1)), hdrs, json.loads(text))
    return Response(int(m.group(1)), hdrs, text)


def parse_frames(buf):
    """Server frames (unmasked) in buf: a list of (opcode, payload) and the
    unparsed rest."""
    out = []
    while len(buf) >= 2:
        op, n = buf[0] & 0x0F, buf[1] & 0x7F
        i = 2
        if n == 126:
            if len(buf) < 4:
                break
            n, i = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, i = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < i + n:
            break
        out.append((op, buf[i:i + n]))
        buf = buf[i + n:]
    return out, buf
