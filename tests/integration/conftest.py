"""Shared fixtures: the real hirewire binary on a free port, against the
PostgreSQL and Redis that scripts/test started (see scripts/services).

Environment (set by scripts/test):
  HIREWIRE_BIN             the AddressSanitizer build
  HIREWIRE_VALGRIND_BIN    the plain build, run under valgrind
  HIREWIRE_SERVICES_DIR    the directory scripts/services manages
  HIREWIRE_PG_CONNINFO, HIREWIRE_REDIS_HOST, HIREWIRE_REDIS_PORT
  HIREWIRE_SOURCE_ROOT     the repository
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest

import proto

TOKEN_RE = re.compile(r"^hw_[A-Za-z0-9_-]{43}$")

# Under AddressSanitizer on a busy two-core machine start-up is slow; these
# are deadlines for polling, not sleeps.
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 15.0

SANITIZER_MARKERS = ("LeakSanitizer", "AddressSanitizer", "runtime error:")

# A time as the API writes it: UTC, milliseconds, a Z.
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def env_path(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; run the integration tests through scripts/test")
    return value


SOURCE_ROOT = Path(os.environ.get("HIREWIRE_SOURCE_ROOT")
                   or Path(__file__).resolve().parents[2])


def _die_with_parent():
    """Runs in the child before exec: SIGTERM it if pytest itself dies, so an
    interrupted run leaves no server behind."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**overrides):
    """The environment the binary runs with: ours, minus HIREWIRE_* settings
    that are not about where PostgreSQL and Redis are, plus overrides."""
    keep = {"HIREWIRE_PG_CONNINFO", "HIREWIRE_REDIS_HOST", "HIREWIRE_REDIS_PORT"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HIREWIRE_") or k in keep}
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


# ---------------------------------------------------------------- HTTP


class Response(NamedTuple):
    status: int
    headers: dict
    body: object  # parsed JSON, or text

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


def parse_response(resp):
    raw = resp.read()
    headers = {}
    for k, v in resp.getheaders():
        k = k.lower()
        headers[k] = f"{headers[k]}, {v}" if k in headers else v
    ctype = headers.get("content-type", "")
    text = raw.decode("utf-8", errors="replace")
    body = text
    if "json" in ctype and raw:
        try:
            body = json.loads(text)
        except ValueError as e:
            raise AssertionError(f"response is not JSON ({e}): {text[:500]!r}") from None
    return Response(resp.status, headers, body)


def request(port, method, path, body=None, headers=None, token=None,
            timeout=HTTP_TIMEOUT_S, conn=None, check_proto=True):
    """One HTTP request. body: dict/list (sent as JSON), str/bytes (sent as
    is), or None. Returns Response(status, lower-cased headers, JSON or text),
    after checking it against proto/ (see proto.py).
    With conn, the request goes over that connection (keep-alive)."""
    hdrs = dict(headers or {})
    data = None
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    if data is not None:
        hdrs.setdefault("Content-Length", str(len(data)))
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        hdrs.setdefault("Content-Length", "0")
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = parse_response(conn.getresponse())
    finally:
        if own:
            conn.close()
    if check_proto:
        proto.check(method, path, resp.status, resp.header("content-type", ""), resp.body)
    return resp


def assert_error(resp, status, code, field=...):
    """Checks hirewire's one error shape:
    {"error":{"code","message","field"},"detail":message}."""
    assert resp.status == status, f"expected {status}, got {resp.status}: {resp.body!r}"
    assert resp.header("content-type", "").startswith("application/json"), resp.headers
    body = resp.body
    assert isinstance(body, dict), body
    assert set(body) == {"error", "detail"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, body
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"], body
    assert body["detail"] == err["message"], body
    if field is not ...:
        assert err["field"] == field, body
    return err


def poll(fn, timeout, interval=0.1, what="condition"):
    """Calls fn until it returns a truthy value or the deadline passes; returns
    that value. The last exception or value is reported on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except (OSError, http.client.HTTPException, AssertionError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")
        time.sleep(interval)


# ---------------------------------------------------------------- CLI


def run_cli(*args, env=None, timeout=60, binary=None, wrapper=()):
    """Runs `hirewire ARGS...` and returns the CompletedProcess (text)."""
    binary = binary or env_path("HIREWIRE_BIN")
    return subprocess.run([*wrapper, binary, *map(str, args)], env=env or base_env(),
                          cwd=SOURCE_ROOT, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def check_clean_cli(proc):
    for marker in SANITIZER_MARKERS:
        assert marker not in proc.stderr, proc.stderr


class User(NamedTuple):
    name: str
    token: str


def unique_name(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_user(prefix="user"):
    """Creates a user through `hirewire user add` and returns (name, token)."""
    name = unique_name(prefix)
    proc = run_cli("user", "add", name)
    check_clean_cli(proc)
    assert proc.returncode == 0, f"user add {name}: {proc.returncode}\n{proc.stderr}"
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    token = lines[0].strip()
    assert TOKEN_RE.match(token), token
    return User(name, token)


# ---------------------------------------------------------------- API


def me(server, token):
    """GET /api/v1/me, which must answer 200; its body."""
    r = server.get("/api/v1/me", token=token)
    assert r.status == 200, r
    return r.body


def create_job(server, token, **over):
    """POST /api/v1/jobs with a plain job (over replaces or adds fields),
    which must answer 201; the job."""
    body = {"company": "Globex", "job_title": "Backend Developer",
            "job_description": "C services", "location": "Austin, TX"}
    body.update(over)
    r = server.post("/api/v1/jobs", body=body, token=token)
    assert r.status == 201, r
    return r.body


# ---------------------------------------------------------------- server


class Server:
    """One hirewire process on its own port, stderr captured to a file."""

    def __init__(self, log_dir, args=(), env=None, binary=None, wrapper=(),
                 ready_timeout=READY_TIMEOUT_S):
        self.port = free_port()
        self.binary = binary or env_path("HIREWIRE_BIN")
        self.stderr_path = Path(log_dir) / f"hirewire-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.cmd = [*wrapper, self.binary, "serve", "--port", str(self.port), *map(str, args)]
        self.env = env if env is not None else base_env()
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=SOURCE_ROOT,
                                     stdin=subprocess.DEVNULL, stdout=self._stderr,
                                     stderr=self._stderr, preexec_fn=_die_with_parent)
        self.returncode = None
        try:
            self.wait_ready(ready_timeout)
        except BaseException:
            self.kill()
            raise

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"hirewire exited with {self.proc.returncode} before answering\n"
                    f"{self.stderr_tail()}")
            try:
                # 503 means up but without PostgreSQL yet (its pool connects
                # after the listener opens): not ready for the tests.
                r = request(self.port, "GET", "/health", timeout=5, check_proto=False)
                if r.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"GET /health did not answer 200 within {timeout} s\n"
                                     f"{self.stderr_tail()}")
            time.sleep(0.1)

    def request(self, method, path, body=None, headers=None, token=None, **kw):
        return request(self.port, method, path, body=body, headers=headers, token=token, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def stderr(self):
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stderr_tail(self, n=60):
        return "\n".join(self.stderr().splitlines()[-n:])

    def send(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT_S):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"hirewire did not exit within {timeout} s\n"
                                 f"{self.stderr_tail()}") from None
        finally:
            self._stderr.close()
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Sends sig and returns the exit status."""
        if self.returncode is not None:
            return self.returncode
        self.send(sig)
        return self.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()
        if self.returncode is None:
            self.returncode = self.proc.returncode

    def assert_clean_exit(self):
        """Exit status 0 and no sanitizer report in stderr."""
        err = self.stderr()
        for marker in SANITIZER_MARKERS:
            assert marker not in err, f"{marker} in hirewire's stderr:\n{self.stderr_tail(200)}"
        assert self.returncode == 0, (
            f"hirewire exited with {self.returncode}\n{self.stderr_tail()}")

    def stop_clean(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        self.stop(sig, timeout)
        self.assert_clean_exit()


class ServerFactory:
    """Starts servers; stop_all() stops those still running and checks that
    each one exited cleanly."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.servers = []

    def __call__(self, args=(), env=None, **kw):
        s = Server(self.log_dir, args=args, env=env, **kw)
        self.servers.append(s)
        return s

    def stop_all(self):
        problems = []
        for s in self.servers:
            try:
                if s.returncode is None:
                    s.stop()
                    s.assert_clean_exit()
            except AssertionError as e:
                problems.append(str(e))
        self.servers = []
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def start_server(tmp_path):
    """Factory: start_server(args=(), env=None) -> Server. Every server still
    running at the end of the test gets SIGTERM and must exit 0, clean."""
    factory = ServerFactory(tmp_path)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for all tests of a module, stopped and checked at its end."""
    factory = ServerFactory(tmp_path_factory.mktemp("server"))
    s = factory()
    yield s
    factory.stop_all()


@pytest.fixture
def user():
    return new_user()


# ---------------------------------------------------------------- services


def services(command):
    """scripts/services COMMAND DIR on the test run's PostgreSQL and Redis."""
    directory = env_path("HIREWIRE_SERVICES_DIR")
    proc = subprocess.run([str(SOURCE_ROOT / "scripts" / "services"), command, directory],
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"scripts/services {command}: {proc.stdout}{proc.stderr}"
