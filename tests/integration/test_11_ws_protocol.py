"""The WebSocket protocol of /api/v1/ws: credentials, system.connected,
channels, and every client action (CONTRACT §2.1, proto/asyncapi.yaml)."""

import asyncio

import pytest
import websockets
import websockets.exceptions

from conftest import assert_error, new_user
from wsutil import (CHANNELS, CONNECT_TIMEOUT_S, DEFAULT_CHANNELS, Poster, check_connected,
                    connect, job_created, raw_upgrade, run, user_id, ws_url)

UNKNOWN_TOKEN = "hw_" + "Q" * 43


@pytest.fixture(scope="module")
def alice():
    return new_user("wsp")


async def handshake_status(url, headers=None):
    """The HTTP status of an upgrade the server refuses."""
    try:
        conn = await websockets.connect(url, extra_headers=headers or {},
                                        open_timeout=CONNECT_TIMEOUT_S, ping_interval=None)
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code
    await conn.close()
    raise AssertionError(f"{url}: the upgrade was accepted")


@pytest.mark.parametrize("how", ["query", "header", "capability"])
def test_credentials(server, alice, how):
    uid = user_id(server.port, alice.token)
    kw = {"query": {"token": alice.token}, "header": {"header_token": alice.token},
          "capability": {"cap_token": alice.token}}[how]

    async def go():
        async with connect(server.port, channels="jobs,applications", **kw) as ws:
            check_connected(ws.connected, uid, ["jobs", "applications"])
            assert ws.connected["data"]["node_id"], ws.connected
            assert ws.connected["data"]["message"] == "Connected to Job Automation System"
            await ws.send({"action": "ping"})
            await ws.expect("system.pong")
    run(go())


def test_connection_ids_differ(server, alice):
    async def go():
        async with connect(server.port, token=alice.token) as a, \
                connect(server.port, token=alice.token) as b:
            assert a.connected["connection_id"] != b.connected["connection_id"]
    run(go())


@pytest.mark.parametrize("path", ["/api/v1/ws", "/api/v1/ws/", "/api/v1/ws?channels=jobs",
                                  "/api/v1/ws?channels=jobs&since=3&user_id=1"])
def test_missing_credential_401_before_upgrade(server, path):
    assert run(handshake_status(f"ws://127.0.0.1:{server.port}{path}")) == 401
    assert_error(raw_upgrade(server.port, path), 401, "unauthorized")


@pytest.mark.parametrize("credential", [
    {"query": "token=hw_short"},
    {"query": "token="},
    {"header": "Basic dXNlcjpwYXNz"},
    {"path": "/u/garbage/api/v1/ws"},
])
def test_malformed_credential_401_before_upgrade(server, credential):
    path = credential.get("path", "/api/v1/ws")
    if "query" in credential:
        path += "?" + credential["query"]
    headers = {"Authorization": credential["header"]} if "header" in credential else None
    assert run(handshake_status(f"ws://127.0.0.1:{server.port}{path}", headers)) == 401
    assert_error(raw_upgrade(server.port, path, headers), 401, "unauthorized")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/wsx", "/ws", "/api/v1/ws/extra"])
def test_wrong_path_404(server, alice, path):
    assert run(handshake_status(ws_url(server.port, path, token=alice.token))) == 404
    headers = {"Authorization": f"Bearer {alice.token}"}
    assert run(handshake_status(ws_url(server.port, path), headers)) == 404
    assert_error(raw_upgrade(server.port, path, headers), 404, "not_found")


@pytest.mark.parametrize("how", ["query", "header", "capability"])
def test_unknown_token_error_then_4401(server, how):
    kw = {"query": {"token": UNKNOWN_TOKEN}, "header": {"header_token": UNKNOWN_TOKEN},
          "capability": {"cap_token": UNKNOWN_TOKEN}}[how]

    async def go():
        async with connect(server.port, expect_connected=False, **kw) as ws:
            msgs, code = await ws.wait_closed()
            assert [m["type"] for m in msgs] == ["system.error"], msgs
            assert msgs[0]["data"]["code"] == "unauthorized", msgs
            assert code == 4401, code
    run(go())


def test_subscribe_unsubscribe(server, alice):
    poster = Poster(server.port, alice.token)

    async def go():
        async with connect(server.port, token=alice.token, channels="jobs") as ws:
            assert ws.connected["data"]["channels"] == ["jobs"]
            # skills is not subscribed: a skills event is skipped, the jobs one arrives.
            s1 = await poster.apost("gap.noted", "skills", {"n": 1})
            j1 = await poster.apost("job.created", "jobs", job_created(1))
            assert j1 == s1 + 1
            ev = await ws.event()
            assert (ev["seq"], ev["type"], ev["channel"]) == (j1, "job.created", "jobs"), ev
            assert ev["data"] == job_created(1), ev

            await ws.send({"action": "subscribe", "channel": "skills"})
            m = await ws.expect("system.subscribed")
            assert m["channel"] == "skills" and m["data"]["channel"] == "skills", m
            assert m["data"]["subscriber_count"] >= 1, m
            assert m["message"] == "Subscribed to skills", m
            s2 = await poster.apost("gap.noted", "skills", {"n": 2})
            ev = await ws.event()
            assert (ev["seq"], ev["type"], ev["channel"], ev["data"]) == \
                (s2, "gap.noted", "skills", {"n": 2}), ev

            await ws.send({"action": "unsubscribe", "channel": "skills"})
            m = await ws.expect("system.unsubscribed")
            assert m["channel"] == "skills" and m["data"]["channel"] == "skills", m
            assert isinstance(m["message"], str) and m["message"], m
            s3 = await poster.apost("gap.noted", "skills", {"n": 3})
            j2 = await poster.apost("job.created", "jobs", job_created(2))
            assert j2 == s3 + 1
            ev = await ws.event()
            assert ev["seq"] == j2, f"the skills event {s3} came after unsubscribe: {ev}"

            await ws.send({"action": "list_channels"})
            m = await ws.expect("system.channels")
            assert m["data"]["subscribed"] == ["jobs"], m
    try:
        run(go())
    finally:
        poster.close()


@pytest.mark.parametrize("msg,code", [
    ({"action": "subscribe", "channel": "nope"}, "invalid_field"),
    ({"action": "subscribe"}, "invalid_field"),
    ({"action": "unsubscribe", "channel": 3}, "invalid_field"),
    ({"action": "resume", "since": -1}, "invalid_field"),
    ({"action": "resume", "since": "5"}, "invalid_field"),
    ({"action": "fly"}, "bad_request"),
    ({"no_action": 1}, "bad_request"),
    ([1, 2], "bad_request"),
    ("not json", "invalid_json"),
    ("{\"action\":", "invalid_json"),
])
def test_bad_messages_error_and_stay_open(server, alice, msg, code):
    async def go():
        async with connect(server.port, token=alice.token, channels="jobs") as ws:
            await ws.send(msg)
            m = await ws.expect("system.error")
            assert m["data"]["code"] == code, m
            assert m["data"]["message"], m
            if msg == {"action": "fly"}:
                assert m["data"]["message"] == "Unknown action: fly", m
            # Still open and serving, with its channels untouched.
            await ws.send({"action": "ping"})
            await ws.expect("system.pong")
            await ws.send({"action": "list_channels"})
            m = await ws.expect("system.channels")
            assert m["data"]["subscribed"] == ["jobs"], m
    run(go())


def test_ping_pong(server, alice):
    async def go():
        async with connect(server.port, token=alice.token) as ws:
            for _ in range(3):
                await ws.send({"action": "ping"})
                m = await ws.expect("system.pong")
                assert m["data"] == {"message": "pong"} and m["message"] == "pong", m
            # The clients' answer to system.ping is accepted silently: the
            # next message is the answer to the ping that follows it.
            await ws.send({"action": "pong"})
            await ws.send({"action": "pong"})
            await ws.send({"action": "ping"})
            await ws.expect("system.pong")
    run(go())


def test_list_channels(server, alice):
    async def go():
        async with connect(server.port, token=alice.token, channels="interviews,system") as ws:
            await ws.send({"action": "list_channels"})
            m = await ws.expect("system.channels")
            assert m["data"]["channels"] == CHANNELS, m
            assert m["data"]["subscribed"] == ["interviews", "system"], m
    run(go())


def test_get_stats_exact(start_server):
    """On a server of its own, so the counts are known."""
    srv = start_server()
    a, b = new_user("wsstats"), new_user("wsstats")

    async def go():
        async with connect(srv.port, token=a.token, channels="jobs") as w1, \
                connect(srv.port, token=a.token, channels="jobs,skills") as w2, \
                connect(srv.port, token=b.token, channels="system") as w3:
            await w1.send({"action": "get_stats"})
            m = await w1.expect("system.stats")
            d = m["data"]
            assert d["total_connections"] == 3 and d["unique_users"] == 2, d
            assert d["channels"] == ["jobs", "skills", "system"], d
            expected = {c: 0 for c in CHANNELS}
            expected.update(jobs=2, skills=1, system=1)
            assert d["channel_details"] == expected, d

            await w3.send({"action": "subscribe", "channel": "jobs"})
            m = await w3.expect("system.subscribed")
            assert m["data"] == {"channel": "jobs", "subscriber_count": 3}, m
            await w2.send({"action": "unsubscribe", "channel": "skills"})
            m = await w2.expect("system.unsubscribed")
            assert m["data"] == {"channel": "skills", "subscriber_count": 0}, m
            await w3.send({"action": "get_stats"})
            d = (await w3.expect("system.stats"))["data"]
            expected.update(jobs=3, skills=0)
            assert d["channel_details"] == expected and d["channels"] == ["jobs", "system"], d
            await w2.close()
        # Closed connections leave the counts.
        async with connect(srv.port, token=b.token, channels="research") as w4:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while True:
                await w4.send({"action": "get_stats"})
                d = (await w4.expect("system.stats"))["data"]
                if d["total_connections"] == 1 or loop.time() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert d["total_connections"] == 1 and d["unique_users"] == 1, d
            assert d["channels"] == ["research"], d
    run(go())
    srv.stop_clean()


def test_default_channels_exclude_system(server, alice):
    poster = Poster(server.port, alice.token)

    async def go():
        async with connect(server.port, token=alice.token) as plain, \
                connect(server.port, token=alice.token, channels="system") as sys_only:
            assert plain.connected["data"]["channels"] == DEFAULT_CHANNELS
            assert sys_only.connected["data"]["channels"] == ["system"]
            n = await poster.apost("maintenance.planned", "system", {"at": "tonight"})
            j = await poster.apost("job.created", "jobs", job_created(7))
            ev = await plain.event()
            assert (ev["seq"], ev["type"]) == (j, "job.created"), ev
            ev = await sys_only.event()
            assert (ev["seq"], ev["type"], ev["channel"]) == (n, "maintenance.planned", "system")
            assert ev["data"] == {"at": "tonight"}, ev
            # The jobs event never reaches the system-only socket.
            assert await sys_only.sync() == []
    try:
        run(go())
    finally:
        poster.close()


def test_channels_query_is_trimmed_and_unknown_names_reported(server, alice):
    uid = user_id(server.port, alice.token)

    async def go():
        async with connect(server.port, token=alice.token, channels="%20jobs%20,skills",
                           expect_connected=False) as ws:
            check_connected(await ws.recv(), uid, ["jobs", "skills"])
        async with connect(server.port, token=alice.token, channels="jobs,bogus",
                           expect_connected=False) as ws:
            msgs = [await ws.recv(), await ws.recv()]
            connected = [m for m in msgs if m["type"] == "system.connected"]
            errors = [m for m in msgs if m["type"] == "system.error"]
            assert len(connected) == 1 and len(errors) == 1, msgs
            check_connected(connected[0], uid, ["jobs"])
            assert errors[0]["data"]["code"] == "invalid_field", errors
            # asyncapi: "The first message is system.connected."
            assert msgs[0]["type"] == "system.connected", msgs
        async with connect(server.port, token=alice.token, since="abc",
                           expect_connected=False) as ws:
            msgs = [await ws.recv(), await ws.recv()]
            assert msgs[0]["type"] == "system.connected", msgs
            assert msgs[1]["type"] == "system.error", msgs
            assert msgs[1]["data"]["code"] == "invalid_field", msgs
    run(go())
