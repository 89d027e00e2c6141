"""The plain (unsanitized) build under valgrind: some traffic, SIGTERM, and
no error and no byte left allocated at exit."""

import os
import re
import shutil
import signal

import pytest

from conftest import TOKEN_RE, env_path, run_cli, unique_name

VALGRIND = ["valgrind", "--leak-check=full", "--show-leak-kinds=all",
            "--errors-for-leak-kinds=all", "--error-exitcode=99", "--track-fds=no",
            "--num-callers=30"]

# valgrind slows start-up and shutdown by an order of magnitude.
READY_S = 180.0
STOP_S = 180.0


def check_valgrind_report(text):
    assert "ERROR SUMMARY: 0 errors" in text, text[-6000:]
    assert ("All heap blocks were freed" in text
            or re.search(r"in use at exit: 0 bytes in 0 blocks", text)), text[-6000:]


@pytest.fixture(scope="module")
def vbin():
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (scripts/setup installs it)")
    path = env_path("HIREWIRE_VALGRIND_BIN")
    assert os.access(path, os.X_OK), f"{path} is not built"
    return path


def test_cli_under_valgrind(vbin):
    name = unique_name("vg")
    proc = run_cli("user", "add", name, binary=vbin, wrapper=VALGRIND, timeout=READY_S)
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert TOKEN_RE.match(proc.stdout.strip()), proc.stdout
    check_valgrind_report(proc.stderr)
    proc = run_cli("token", "list", name, binary=vbin, wrapper=VALGRIND, timeout=READY_S)
    assert proc.returncode == 0, proc.stderr[-6000:]
    rows = [l for l in proc.stdout.splitlines() if not l.startswith("ID\t")]
    assert len(rows) == 1 and rows[0].split("\t")[3] == "live", proc.stdout
    check_valgrind_report(proc.stderr)


def test_server_under_valgrind(vbin, start_server):
    name = unique_name("vgs")
    proc = run_cli("user", "add", name)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()

    srv = start_server(binary=vbin, wrapper=VALGRIND, ready_timeout=READY_S)
    timeout = 60
    assert srv.get("/health", timeout=timeout).status == 200
    assert srv.get("/api/v1/integrations/health", timeout=timeout).status == 200
    assert srv.get("/metrics", timeout=timeout).status == 200
    r = srv.get("/api/v1/me", token=token, timeout=timeout)
    assert r.status == 200 and r.body["name"] == name, r
    assert srv.get(f"/u/{token}/api/v1/me", timeout=timeout).status == 200
    assert srv.get("/nope", timeout=timeout).status == 404
    assert srv.get("/api/v1/me", timeout=timeout).status == 401
    r = srv.post("/api/v1/cache/set", token=token, timeout=timeout,
                 body={"namespace": "job_details", "key": "vg", "value": {"a": [1, 2]}})
    assert r.status == 200, r
    r = srv.post("/api/v1/cache/get", token=token, timeout=timeout,
                 body={"namespace": "job_details", "key": "vg"})
    assert r.status == 200 and r.body["value"] == {"a": [1, 2]}, r
    r = srv.post("/api/v1/cache/set", token=token, timeout=timeout, body="{broken",
                 headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    r = srv.request("OPTIONS", "/api/v1/cache/set", timeout=timeout,
                    headers={"Origin": "https://www.linkedin.com",
                             "Access-Control-Request-Method": "POST"})
    assert r.status == 204, r

    rc = srv.stop(signal.SIGTERM, timeout=STOP_S)
    report = srv.stderr()
    assert rc == 0, f"exit status {rc} under valgrind\n{report[-6000:]}"
    check_valgrind_report(report)
