"""HTTP plumbing: error shapes, 404/405/411/413/415/400, trailing slashes, keep-alive."""

import http.client
import json
import socket

import pytest

from conftest import HTTP_TIMEOUT_S, ServerFactory, assert_error, new_user

BODY_MAX = 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp("server"))
    yield factory(args=["--http_body_max", str(BODY_MAX)])
    factory.stop_all()


@pytest.fixture(scope="module")
def token():
    return new_user("http").token


def cache_body(size):
    """A valid cache/set body of exactly size bytes."""
    base = {"namespace": "job_details", "key": "k", "value": ""}
    pad = size - len(json.dumps(base, separators=(",", ":")).encode())
    assert pad >= 0
    base["value"] = "x" * pad
    data = json.dumps(base, separators=(",", ":")).encode()
    assert len(data) == size
    return data


def raw_exchange(port, head, body=b""):
    """Sends raw bytes and parses one response; returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S) as sock:
        sock.sendall(head + body)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        data = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, headers, json.loads(data) if data else None


def test_unknown_path_404(server):
    for path in ("/nope", "/nope/", "/api/v2/jobs", "/healthz"):
        assert_error(server.get(path), 404, "not_found")


def test_unknown_api_path_404_when_authenticated(server, token):
    assert_error(server.get("/api/v1/no-such-thing", token=token), 404, "not_found")


def test_wrong_method_405_with_allow(server, token):
    r = server.request("DELETE", "/health")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.header("allow", ""), r.headers
    r = server.get("/api/v1/cache/set", token=token)
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.header("allow", ""), r.headers
    r = server.request("PUT", "/api/v1/cache/set/", body={}, token=token)
    assert_error(r, 405, "method_not_allowed")


def test_body_at_the_limit_is_accepted(server, token):
    r = server.post("/api/v1/cache/set", body=cache_body(BODY_MAX), token=token,
                    headers={"Content-Type": "application/json"})
    assert r.status == 200, r
    assert r.body["success"] is True


def test_body_over_the_limit_413(server, token):
    r = server.post("/api/v1/cache/set", body=cache_body(BODY_MAX + 1), token=token,
                    headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    assert r.header("connection", "").lower() == "close", r.headers


def test_declared_length_over_the_limit_413_without_reading(server, token):
    head = (f"POST /api/v1/cache/set HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n").encode()
    status, headers, body = raw_exchange(server.port, head)
    assert status == 413, (status, body)
    assert body["error"]["code"] == "payload_too_large"
    assert headers.get("connection", "").lower() == "close", headers


def test_not_json_415(server, token):
    r = server.post("/api/v1/cache/set", body='{"namespace":"job_details","key":"k","value":1}',
                    headers={"Content-Type": "text/plain"}, token=token)
    assert_error(r, 415, "unsupported_media_type")
    r = server.post("/api/v1/cache/set", body={"namespace": "job_details", "key": "k", "value": 1},
                    headers={"Content-Type": "application/json; charset=utf-8"}, token=token)
    assert r.status == 200, r


def test_malformed_json_400(server, token):
    body = '{\n  "namespace": "job_details",\n  "key": \n}'
    r = server.post("/api/v1/cache/set", body=body,
                    headers={"Content-Type": "application/json"}, token=token)
    err = assert_error(r, 400, "invalid_json")
    assert "line" in err["message"] and "column" in err["message"], err


def test_chunked_post_411(server, token):
    chunk = b'{"namespace":"job_details","key":"k","value":1}'
    head = (f"POST /api/v1/cache/set HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)
    status, headers, resp = raw_exchange(server.port, head, body)
    assert status == 411, (status, resp)
    assert resp["error"]["code"] == "length_required"
    assert set(resp) == {"error", "detail"}


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/me/", "/api/v1/cache/stats",
                                  "/api/v1/cache/stats/", "/api/v1/me?x=1"])
def test_trailing_slash_and_query(server, token, path):
    r = server.get(path, token=token)
    assert r.status == 200, (path, r)


def test_keep_alive(server, token):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT_S)
    try:
        local = None
        steps = [
            ("GET", "/health", None, 200),
            ("GET", "/nope", None, 404),
            ("POST", "/api/v1/cache/set",
             {"namespace": "job_details", "key": "ka", "value": [1, 2]}, 200),
            ("POST", "/api/v1/cache/get", {"namespace": "job_details", "key": "ka"}, 200),
            ("GET", "/api/v1/me", None, 200),
            ("DELETE", "/health", None, 405),
            ("GET", "/", None, 200),
        ]
        for method, path, body, status in steps:
            hdrs = {"Authorization": f"Bearer {token}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            assert resp.status == status, (method, path, resp.status, payload)
            assert conn.sock is not None, f"server closed the connection after {method} {path}"
            port = conn.sock.getsockname()[1]
            assert local in (None, port), "the client had to reconnect"
            local = port
        assert json.loads(payload)["status"] == "running"
    finally:
        conn.close()


def test_error_bodies_are_json_with_detail(server):
    r = server.get("/api/v1/me")
    assert_error(r, 401, "unauthorized")
    assert r.header("content-type").startswith("application/json")
