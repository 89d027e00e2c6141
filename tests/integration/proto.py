"""Checks real responses against the published contract in proto/.

Every JSON response the tests receive goes through check(): a 2xx (or any
status the operation documents) is validated against the schema that
proto/openapi.yaml gives for that path, method and status, and every JSON error
against proto/schemas/error.json. Operations answered with a 2xx are recorded,
so the suite can fail when an endpoint of proto/ was never exercised."""

import json
import re
from pathlib import Path

import jsonschema
import yaml

PROTO = Path(__file__).resolve().parents[2] / "proto"
OPENAPI_PATH = PROTO / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "options", "head")

# (METHOD, "/path/template") answered with a 2xx during this run.
exercised = set()


def _load():
    doc = yaml.safe_load(OPENAPI_PATH.read_text())
    base = OPENAPI_PATH.as_uri()
    store = {base: doc}
    for f in sorted((PROTO / "schemas").glob("*.json")):
        schema = json.loads(f.read_text())
        store[f.as_uri()] = schema
        if isinstance(schema.get("$id"), str):
            store[schema["$id"]] = schema
    resolver = jsonschema.RefResolver(base_uri=base, referrer=doc, store=store)
    routes = []
    for template, item in (doc.get("paths") or {}).items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        for method in METHODS:
            if method in item:
                routes.append((re.compile(pattern), template, method.upper(), item[method]))
    return doc, resolver, routes


DOC, RESOLVER, ROUTES = _load()
ERROR_SCHEMA = {"$ref": (PROTO / "schemas" / "error.json").as_uri()}


def operations():
    """Every (METHOD, template) proto/openapi.yaml declares."""
    return {(m, t) for _, t, m, _ in ROUTES}


def _deref(node):
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        _, node = RESOLVER.resolve(node["$ref"])
    return node


def normalize(path):
    """The route a request path addresses: no query, no /u/TOKEN prefix, no
    trailing slash."""
    path = path.split("?", 1)[0]
    m = re.match(r"^/u/[^/]+(/.*)?$", path)
    if m:
        path = m.group(1) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def find(method, path):
    for rx, template, m, op in ROUTES:
        if m == method and rx.match(path):
            return template, op
    return None, None


def _validate(schema, body, what):
    try:
        jsonschema.Draft202012Validator(schema, resolver=RESOLVER).validate(body)
    except jsonschema.ValidationError as e:
        where = "/".join(map(str, e.absolute_path)) or "(root)"
        raise AssertionError(f"{what} does not match proto/: at {where}: {e.message}\n"
                             f"body: {json.dumps(body)[:1500]}") from None


def check(method, path, status, content_type, body):
    """Validates one response; raises AssertionError on a mismatch."""
    route = normalize(path)
    template, op = find(method, route)
    what = f"{method} {path} -> {status}"
    is_json = content_type.startswith("application/json")
    responses = (op or {}).get("responses") or {}
    spec = _deref(responses.get(str(status)) or responses.get("default"))
    if spec is None:
        if 200 <= status < 300 and op is not None:
            raise AssertionError(f"{what}: status {status} is not documented in proto/openapi.yaml")
        if status >= 400 and is_json:
            _validate(ERROR_SCHEMA, body, what)
        return
    if 200 <= status < 300:
        exercised.add((method, template))
    content = spec.get("content") or {}
    media = content.get("application/json")
    if media and "schema" in media:
        assert is_json, f"{what}: proto/ documents JSON, got {content_type!r}"
        _validate(media["schema"], body, what)
