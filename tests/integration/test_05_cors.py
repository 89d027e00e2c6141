"""CORS: preflights from job boards, extensions and loopback dashboards; headers
on every response to an allowed origin; Private Network Access."""

import pytest

from conftest import assert_error, new_user

ALLOWED = [
    "https://www.linkedin.com",
    "https://www.indeed.com",
    "https://www.glassdoor.com",
    "https://linkedin.com",
    "https://indeed.com",
    "https://glassdoor.com",
    "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
    "moz-extension://0b7d9c1e-5f7a-4e43-9d0a-1c2b3d4e5f60",
    "http://localhost",
    "http://localhost:3000",
    "http://127.0.0.1",
    "http://127.0.0.1:8080",
    "http://[::1]:3000",
]

DISALLOWED = [
    "https://evil.example",
    "https://www.linkedin.com.evil.example",
    "https://evil-linkedin.com",
    "http://www.linkedin.com",
    "http://localhost.evil.example",
    "http://127.0.0.1.nip.io",
    "null",
]


def preflight(server, origin, path="/api/v1/cache/set", method="POST",
              req_headers="content-type", extra=None):
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if req_headers:
        headers["Access-Control-Request-Headers"] = req_headers
    headers.update(extra or {})
    return server.request("OPTIONS", path, headers=headers)


def split(value):
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


@pytest.mark.parametrize("origin", ALLOWED)
def test_preflight_allowed(server, origin):
    r = preflight(server, origin, req_headers="content-type")
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == origin, r.headers
    assert "post" in split(r.header("access-control-allow-methods")), r.headers
    allow_headers = split(r.header("access-control-allow-headers"))
    assert {"content-type", "authorization"} <= allow_headers, r.headers
    assert "origin" in split(r.header("vary")), r.headers


def test_preflight_for_the_dashboard_with_authorization(server):
    r = preflight(server, "http://localhost:3000", path="/api/v1/me", method="GET",
                  req_headers="authorization")
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == "http://localhost:3000"
    assert "authorization" in split(r.header("access-control-allow-headers"))


@pytest.mark.parametrize("origin", DISALLOWED)
def test_preflight_disallowed(server, origin):
    r = preflight(server, origin)
    assert_error(r, 403, "forbidden")
    assert "access-control-allow-origin" not in r.headers, r.headers


def test_private_network_access(server):
    r = preflight(server, "https://www.linkedin.com",
                  extra={"Access-Control-Request-Private-Network": "true"})
    assert r.status == 204, r
    assert r.header("access-control-allow-private-network") == "true", r.headers
    assert r.header("access-control-allow-origin") == "https://www.linkedin.com"


def test_headers_on_every_response_to_an_allowed_origin(server):
    origin = "https://www.linkedin.com"
    u = new_user("cors")
    h = {"Origin": origin}
    cases = [
        server.get("/health", headers=h),
        server.get("/", headers=h),
        server.get("/nope", headers=h),
        server.get("/api/v1/me", headers=h),
        server.request("DELETE", "/health", headers=h),
        server.get("/api/v1/me", headers=h, token=u.token),
        server.post("/api/v1/cache/set", headers=h, token=u.token,
                    body={"namespace": "job_details", "key": "c", "value": True}),
        server.post("/api/v1/cache/set", headers=h, token=u.token,
                    body={"namespace": "nope", "key": "c", "value": True}),
        server.post(f"/u/{u.token}/api/v1/cache/get", headers=h,
                    body={"namespace": "job_details", "key": "c"}),
    ]
    statuses = [r.status for r in cases]
    assert statuses == [200, 200, 404, 401, 405, 200, 200, 422, 200], statuses
    for r in cases:
        assert r.header("access-control-allow-origin") == origin, (r.status, r.headers)
        assert "origin" in split(r.header("vary")), (r.status, r.headers)


def test_no_allow_origin_for_other_origins(server):
    r = server.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers, r.headers
    r = server.get("/health")
    assert "access-control-allow-origin" not in r.headers, r.headers


def test_configured_origins_replace_the_defaults(start_server):
    srv = start_server(args=["--cors_origins", "https://jobs.example.org,http://localhost:*"])
    r = preflight(srv, "https://jobs.example.org")
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == "https://jobs.example.org"
    assert preflight(srv, "http://localhost:4000").status == 204
    assert_error(preflight(srv, "https://www.linkedin.com"), 403, "forbidden")
