"""Authentication: bearer tokens, capability URLs, revocation, tokens kept out of logs."""

import re

import pytest

from conftest import assert_error, check_clean_cli, me, new_user, run_cli


def token_new(name):
    proc = run_cli("token", "new", name)
    check_clean_cli(proc)
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"created token (\d+) for user", proc.stderr)
    assert m, proc.stderr
    return proc.stdout.strip(), int(m.group(1))


def token_revoke(token_id):
    proc = run_cli("token", "revoke", token_id)
    check_clean_cli(proc)
    assert proc.returncode == 0, proc.stderr


def test_no_credential_401(server):
    assert_error(server.get("/api/v1/me"), 401, "unauthorized")
    assert_error(server.get("/api/v1/cache/stats"), 401, "unauthorized")
    assert_error(server.post("/api/v1/cache/get", body={"namespace": "job_details", "key": "k"}),
                 401, "unauthorized")


def test_bearer(server):
    u = new_user("auth")
    body = me(server, u.token)
    assert body["name"] == u.name, body
    assert isinstance(body["user_id"], int) and body["user_id"] > 0, body


def test_capability_url(server):
    u = new_user("cap")
    bearer = me(server, u.token)
    for path in (f"/u/{u.token}/api/v1/me", f"/u/{u.token}/api/v1/me/"):
        r = server.get(path)
        assert r.status == 200, (path, r)
        assert r.body["user_id"] == bearer["user_id"] and r.body["name"] == u.name


def test_capability_url_with_unknown_path_404(server):
    u = new_user("cap404")
    assert_error(server.get(f"/u/{u.token}/api/v1/nope"), 404, "not_found")


@pytest.mark.parametrize("value", [
    "Bearer hw_" + "A" * 43,           # well formed, unknown
    "Bearer hw_short",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "hw_" + "A" * 43,
])
def test_bad_bearer_401(server, value):
    r = server.get("/api/v1/me", headers={"Authorization": value})
    assert_error(r, 401, "unauthorized")


@pytest.mark.parametrize("prefix", ["/u/hw_" + "B" * 43, "/u/garbage"])
def test_bad_capability_401(server, prefix):
    assert_error(server.get(prefix + "/api/v1/me"), 401, "unauthorized")


def test_users_are_distinct_and_user_id_param_is_ignored(server):
    a, b = new_user("ua"), new_user("ub")
    ida, idb = me(server, a.token)["user_id"], me(server, b.token)["user_id"]
    assert ida != idb
    r = server.get(f"/api/v1/me?user_id={idb}", token=a.token)
    assert r.status == 200 and r.body["user_id"] == ida and r.body["name"] == a.name, r
    r = server.get(f"/u/{a.token}/api/v1/me?user_id={idb}")
    assert r.status == 200 and r.body["user_id"] == ida, r
    assert_error(server.get(f"/api/v1/me?user_id={ida}"), 401, "unauthorized")


def test_revoked_token_fails_at_once(server):
    u = new_user("rev")
    second, second_id = token_new(u.name)
    assert me(server, second)["name"] == u.name
    assert server.get(f"/u/{second}/api/v1/me").status == 200
    token_revoke(second_id)
    assert_error(server.get("/api/v1/me", token=second), 401, "unauthorized")
    assert_error(server.get(f"/u/{second}/api/v1/me"), 401, "unauthorized")
    assert me(server, u.token)["name"] == u.name


def test_tokens_never_reach_the_log(start_server):
    srv = start_server(args=["--log_level", "debug"])
    u = new_user("log")
    bogus = "hw_" + "Z" * 43
    assert srv.get("/api/v1/me", token=u.token).status == 200
    assert srv.get(f"/u/{u.token}/api/v1/me").status == 200
    assert srv.get(f"/u/{u.token}/api/v1/nope").status == 404
    assert srv.get(f"/u/{u.token}/api/v1/me?user_id=1").status == 200
    assert srv.post(f"/u/{u.token}/api/v1/cache/set",
                    body={"namespace": "job_details", "key": "k", "value": 1}).status == 200
    assert srv.post(f"/u/{u.token}/api/v1/cache/set", body="{bad json",
                    headers={"Content-Type": "application/json"}).status == 400
    assert srv.get("/api/v1/me", token=bogus).status == 401
    assert srv.get(f"/u/{bogus}/api/v1/me").status == 401
    srv.stop_clean()
    log = srv.stderr()
    assert "level=" in log, "the server logs nothing to stderr at debug level"
    assert u.token not in log, "a token appears in the log"
    assert u.token[3:] not in log, "a token's secret part appears in the log"
    assert bogus not in log, "a presented (unknown) token appears in the log"
