"""The command line: help, version, migrate, users, tokens, configuration."""

import json
import re

import pytest

from conftest import TOKEN_RE, base_env, check_clean_cli, new_user, run_cli, unique_name
from dbutil import psql


def cli(*args, env=None):
    proc = run_cli(*args, env=env)
    check_clean_cli(proc)
    return proc


def test_help_lists_the_subcommands():
    proc = cli("--help")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    for sub in ("serve", "migrate", "user", "token", "version"):
        assert sub in text, text


@pytest.mark.parametrize("sub", ["serve", "migrate", "user", "token"])
def test_subcommand_help(sub):
    proc = cli(sub, "--help")
    assert proc.returncode == 0, proc.stderr
    assert sub in (proc.stdout + proc.stderr)


def test_version():
    proc = cli("version")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\b\d+\.\d+\.\d+\b", proc.stdout), proc.stdout


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["user"], ["user", "add"],
                                  ["token", "new"], ["token", "revoke"]])
def test_usage_errors_exit_2(args):
    proc = cli(*args)
    assert proc.returncode == 2, (args, proc.returncode, proc.stdout, proc.stderr)
    if args:
        assert proc.stderr.strip(), "a usage error says why on stderr"
    else:
        assert "usage" in (proc.stdout + proc.stderr).lower()


def test_migrate_is_idempotent():
    for _ in range(2):
        proc = cli("migrate")
        assert proc.returncode == 0, proc.stderr


def test_user_add_prints_only_the_token():
    name = unique_name("cli")
    proc = cli("user", "add", name)
    assert proc.returncode == 0, proc.stderr
    assert TOKEN_RE.match(proc.stdout.rstrip("\n")), repr(proc.stdout)
    assert proc.stdout.count("\n") == 1, repr(proc.stdout)


@pytest.mark.parametrize("flag", [["--timezone", "Europe/Berlin"], ["--timezone=Europe/Berlin"]])
def test_user_add_with_a_time_zone(flag):
    name = unique_name("tz")
    proc = cli("user", "add", name, *flag)
    assert proc.returncode == 0, proc.stderr
    assert TOKEN_RE.match(proc.stdout.rstrip("\n")), repr(proc.stdout)
    assert psql(f"SELECT timezone FROM users WHERE name = '{name}'") == "Europe/Berlin"


def test_user_add_without_a_time_zone_is_utc():
    u = new_user("tz")
    assert psql(f"SELECT timezone FROM users WHERE name = '{u.name}'") == "UTC"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/berlin", "../../etc/passwd",
                                  "posix/Europe/Berlin", "", "Europe"])
def test_user_add_with_an_unknown_time_zone_adds_nobody(zone):
    name = unique_name("tz")
    proc = cli("user", "add", name, "--timezone", zone)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "" and "time zone" in proc.stderr, proc.stderr
    assert psql(f"SELECT count(*) FROM users WHERE name = '{name}'") == "0"


def test_timezone_is_only_for_user_add():
    proc = cli("user", "list", "--timezone", "UTC")
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)


def test_user_add_duplicate_fails():
    u = new_user("dup")
    proc = cli("user", "add", u.name)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.strip()


def test_user_list_shows_new_users():
    a, b = new_user("list"), new_user("list")
    proc = cli("user", "list")
    assert proc.returncode == 0, proc.stderr
    names = set(proc.stdout.split())
    assert a.name in names and b.name in names, proc.stdout
    assert a.token not in proc.stdout and b.token not in proc.stdout


def parse_token_list(text):
    """Rows of `token list`, by id; a header line "ID\tCREATED..." is skipped."""
    rows = {}
    lines = text.splitlines()
    if lines and lines[0].split("\t")[0] == "ID":
        assert lines[0] == "ID\tCREATED\tLAST_USED\tSTATE\tLABEL", lines[0]
        lines = lines[1:]
    for line in lines:
        fields = line.split("\t")
        assert len(fields) == 5, f"ID\\tCREATED\\tLAST_USED\\tSTATE\\tLABEL expected: {line!r}"
        assert fields[0].isdigit(), line
        assert fields[3] in ("live", "revoked"), line
        rows[int(fields[0])] = fields
    return rows


def test_token_new_list_revoke():
    u = new_user("tok")
    proc = cli("token", "new", u.name)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.rstrip("\n")
    assert TOKEN_RE.match(token) and proc.stdout.count("\n") == 1, repr(proc.stdout)
    assert token != u.token
    m = re.search(rf"created token (\d+) for user {re.escape(u.name)}\b", proc.stderr)
    assert m, proc.stderr
    new_id = int(m.group(1))

    proc = cli("token", "list", u.name)
    assert proc.returncode == 0, proc.stderr
    rows = parse_token_list(proc.stdout)
    assert len(rows) == 2, proc.stdout
    assert new_id in rows and rows[new_id][3] == "live", proc.stdout
    assert token not in proc.stdout and u.token not in proc.stdout

    proc = cli("token", "revoke", new_id)
    assert proc.returncode == 0, proc.stderr
    rows = parse_token_list(cli("token", "list", u.name).stdout)
    assert rows[new_id][3] == "revoked"
    others = [r for i, r in rows.items() if i != new_id]
    assert [r[3] for r in others] == ["live"]


def test_token_revoke_unknown_id_fails():
    proc = cli("token", "revoke", "2147480000")
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.strip()


def test_token_new_for_unknown_user_fails():
    proc = cli("token", "new", unique_name("nobody"))
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stdout == ""


# ---------------------------------------------------------------- config


def print_config(*flags, **env):
    proc = cli("serve", "--print-config", *flags, env=base_env(**env))
    assert proc.returncode == 0, proc.stderr
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"--print-config did not print JSON: {proc.stdout!r}") from None


def test_print_config_defaults():
    cfg = print_config(HIREWIRE_PORT=None, HIREWIRE_LISTEN_HOST=None,
                       HIREWIRE_HTTP_BODY_MAX=None)
    for key in ("listen_host", "port", "pg_conninfo", "pg_pool_size", "redis_host",
                "redis_port", "http_body_max", "log_level", "node_id", "cors_origins",
                "http_timeout_s"):
        assert key in cfg, (key, cfg)
    assert cfg["listen_host"] == "127.0.0.1"
    assert cfg["port"] == 8000
    assert cfg["http_body_max"] == 1048576
    origins = json.dumps(cfg["cors_origins"])
    for origin in ("https://www.linkedin.com", "https://www.indeed.com",
                   "https://www.glassdoor.com", "chrome-extension://", "moz-extension://"):
        assert origin in origins, cfg["cors_origins"]


def test_config_sources_in_order():
    assert print_config(HIREWIRE_PORT="9125")["port"] == 9125
    assert print_config("--port", "9126", HIREWIRE_PORT="9125")["port"] == 9126
    assert print_config("--port=9127")["port"] == 9127
    assert print_config("--redis_host", "")["redis_host"] == ""
    assert print_config(HIREWIRE_NODE_ID="node-from-env")["node_id"] == "node-from-env"
    assert print_config("--http_body_max=2048")["http_body_max"] == 2048


def test_print_config_redacts_the_password():
    conninfo = "host=/nonexistent port=1 dbname=x user=u password=s3cr3t-pw"
    cfg = print_config(HIREWIRE_PG_CONNINFO=conninfo)
    assert "s3cr3t-pw" not in json.dumps(cfg)
    assert "password=***" in cfg["pg_conninfo"], cfg["pg_conninfo"]
    assert "host=/nonexistent" in cfg["pg_conninfo"]


@pytest.mark.parametrize("flags,key", [
    (["--port", "abc"], "port"),
    (["--port=70000"], "port"),
    (["--pg_pool_size", "zero"], "pg_pool_size"),
    (["--http_body_max", "-1"], "http_body_max"),
])
def test_bad_values_name_the_key(flags, key):
    proc = cli("serve", "--print-config", *flags)
    assert proc.returncode in (1, 2), (proc.returncode, proc.stdout, proc.stderr)
    assert key in proc.stderr, proc.stderr


def test_bad_env_value_names_the_key():
    proc = cli("serve", "--print-config", env=base_env(HIREWIRE_PORT="eighty"))
    assert proc.returncode in (1, 2), (proc.returncode, proc.stdout, proc.stderr)
    assert "port" in proc.stderr.lower(), proc.stderr


def test_unknown_flag_is_a_usage_error():
    proc = cli("serve", "--print-config", "--no-such-key", "1")
    assert proc.returncode in (1, 2), (proc.returncode, proc.stdout, proc.stderr)
    assert "no-such-key" in proc.stderr or "no_such_key" in proc.stderr, proc.stderr
