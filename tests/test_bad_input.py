"""No input is a 500: every page and form of the site gets the bad values
people and scanners send, and must answer them with a 4xx (or ignore them).

Nothing here lists today's URLs or fields, so a page or form added later is
covered without touching this file:

- the URLs come from walking the URLconf (every route, its path parameters
  filled with real objects and with the bad values);
- the parameters of each URL are the union of what its view actually reads
  (request.GET / request.POST accesses are recorded while the test runs, so a
  parameter read only after another one is valid is found too), the fields of
  the HTML forms the pages render that submit to it, and the query parameters
  of the links the pages contain;
- the API's JSON bodies and parameters come from its OpenAPI schema.

Each request is made as a customer, as a manager (who may do all an agent may,
on every ticket) and anonymously, and rolled back afterwards, so one bad value
cannot change what the next sees.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from rest_framework.authtoken.models import Token

from tickets import services
from tickets.models import SavedView

pytestmark = pytest.mark.django_db

# What people, broken clients and scanners send. Each one has broken a view
# here before: str.isdigit() accepts "²" and int() then fails; PostgreSQL
# refuses NUL; timedelta(microseconds=10**18) overflows; date 9999-12-31 has
# no next day.
BAD_VALUES: dict[str, str] = {
    "superscript digit": "²",
    "circled digit": "①",
    "key with a unicode digit": "HD-²",
    "NUL": "\x00",
    "NUL inside": "HD-1\x00",
    "huge integer": "1000000000000000000",
    "beyond bigint": "99999999999999999999999",
    "over-long number": "9" * 5000,
    "negative": "-1",
    "over-long text": "x" * 10_000,
    "cursor without id": "1_",
    "cursor with huge time": "99999999999999999999_1",
    "cursor with unicode digits": "²_²",
    "last day of time": "9999-12-31",
    "impossible date": "2024-02-30",
    "five-digit year": "20240-01-01",
    "control characters": "\x01\x1b[31m\x7f",
    "redirect elsewhere": "//evil.example/",
}

# The Django admin is Django's own (tested upstream, managers only).
SKIPPED_NAMESPACES = {"admin"}


# --- the URLconf ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # "tickets/<str:key>/reply/"
    params: tuple[tuple[str, str], ...]  # (name, converter)

    def fill(self, values: dict[str, str]) -> str:
        def value(match: re.Match) -> str:
            return quote(values[match.group(2)], safe="")

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, self.route)


def site_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIPPED_NAMESPACES:
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and isinstance(entry.pattern, RoutePattern):
                route = prefix + str(entry.pattern)
                params = tuple(
                    (name, type(conv).__name__) for name, conv in entry.pattern.converters.items()
                )
                routes.append(Route(route, params))
            elif isinstance(entry, URLPattern):
                # A regular expression route: its literal prefix is its URL.
                literal = re.sub(r"[\^$]|\(.*", "", str(entry.pattern.regex.pattern))
                routes.append(Route(prefix + literal, ()))

    walk(get_resolver().url_patterns, "")
    return routes


# --- what the views read --------------------------------------------------------------


class ReadRecorder:
    """Records every key a view reads from a QueryDict (request.GET,
    request.POST, DRF's query_params) while `keys` is a set."""

    keys: set[str] | None = None

    def install(self, monkeypatch) -> None:
        for name in ("get", "getlist", "__getitem__", "__contains__"):
            original = getattr(QueryDict, name)
            monkeypatch.setattr(QueryDict, name, self._recording(original))

    def _recording(self, original):
        recorder = self

        def method(self, key, *args, **kwargs):
            if recorder.keys is not None and isinstance(key, str):
                recorder.keys.add(key)
            return original(self, key, *args, **kwargs)

        return method


# --- the pages' forms and links --------------------------------------------------------


@dataclass
class HtmlForm:
    action: str
    method: str
    defaults: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)


class PageParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[HtmlForm] = []
        self.link_params: dict[str, set[str]] = defaultdict(set)  # path -> names
        self._form: HtmlForm | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_path).path or self.page_path
            self._form = HtmlForm(action, (a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            url = urlsplit(a["href"])
            if not url.netloc and url.query:
                path = url.path or self.page_path
                self.link_params[path].update(k for k, _ in parse_qsl(url.query, True))
        elif self._form is not None and a.get("name"):
            name = a["name"]
            if name.startswith("csrf") or a.get("type") == "file":
                return
            if tag == "select":
                self._select = name
                self._form.choices.setdefault(name, [])
            elif tag in ("input", "textarea"):
                if a.get("type") in ("checkbox", "radio"):
                    self._form.choices.setdefault(name, []).append(a.get("value", "on"))
                self._form.defaults.setdefault(name, a.get("value", ""))
        elif tag == "option" and self._form is not None and self._select:
            value = a.get("value", "")
            self._form.choices[self._select].append(value)
            self._form.defaults.setdefault(self._select, value)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


# --- the run --------------------------------------------------------------------------


@dataclass
class Target:
    """A URL and method with the parameters known for it."""

    keys: set[str] = field(default_factory=set)
    defaults: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)


class Fuzzer:
    def __init__(self, recorder: ReadRecorder):
        self.recorder = recorder
        self.failures: list[str] = []
        self.requests = 0
        self.last_response = None

    def send(self, client: Client, who: str, method: str, path: str, data: dict) -> set[str]:
        """One request, rolled back; returns the keys the view read."""
        self.recorder.keys = set()
        cookies = client.cookies
        try:
            for _attempt in range(2):
                self.requests += 1
                client.cookies = type(cookies)(cookies)  # e.g. a log-out is undone too
                response = None
                with transaction.atomic():
                    try:
                        response = client.generic_request(method, path, data)
                    except Exception as error:  # the test client re-raises a view's error
                        self.failures.append(
                            f"{who} {method} {_short(path)} {_short(data)}: "
                            f"{type(error).__name__}: {_short(str(error))}"
                        )
                    transaction.set_rollback(True)
                if response is not None and response.streaming:
                    # Read to the end, as a server would: that closes the file
                    # (the test client's wrapper keeps the connection open).
                    b"".join(response.streaming_content)
                if response is not None and response.status_code == 429:
                    cache.clear()  # a rate limit would hide what the view does next
                    continue
                if response is not None and response.status_code >= 500:
                    self.failures.append(
                        f"{who} {method} {_short(path)} {_short(data)}: {response.status_code}"
                    )
                break
        finally:
            client.cookies = cookies
        self.last_response = response
        read = self.recorder.keys
        self.recorder.keys = None
        return read


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:150] + "...'"


class _ClientWithData(Client):
    def generic_request(self, method: str, path: str, data: dict):
        if method == "GET":
            return self.get(path, data)
        return self.post(path, data)


def _client(user=None) -> _ClientWithData:
    client = _ClientWithData()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(agent, customer, manager, access_team, login_category):
    """A ticket with a conversation and an attachment in Alice's team, a
    second one to link or merge, and a saved view."""
    ticket = services.ticket_create(
        requester=customer, subject="Cannot log in", description="Password refused."
    )
    services.ticket_update(ticket=ticket, actor=manager, team=access_team)
    services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="Try this.",
        is_internal=False,
        attachments=[SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")],
    )
    other = services.ticket_create(requester=customer, subject="Second", description="Also.")
    saved = SavedView.objects.create(owner=agent, name="Mine", query="queue=mine")
    attachment = ticket.messages.filter(attachments__isnull=False).first().attachments.first()
    return {
        # Managers can do whatever agents can (and see every ticket).
        "users": {"customer": customer, "manager": manager, "anonymous": None},
        "str": {"key": ticket.key},
        "int": sorted({ticket.pk, other.pk, saved.pk, attachment.pk}),
        "ticket": ticket,
    }


def _good_urls(route: Route, world) -> list[str]:
    """The route with real objects in its parameters (each pk for an int)."""
    urls = [{}]
    for name, converter in route.params:
        if converter == "IntConverter":
            options = [str(pk) for pk in world["int"]]
        else:
            options = [world["str"].get(name, "x")]
        urls = [{**u, name: option} for u in urls for option in options]
    return [route.fill(u) for u in urls]


def _bad_urls(route: Route, world) -> list[tuple[str, str]]:
    """(what, url): each path parameter in turn given each bad value (an int
    converter only matches ASCII digits: it gets the huge ones)."""
    good = {name: (world["str"].get(name, "x")) for name, _ in route.params}
    for name, converter in route.params:
        if converter == "IntConverter":
            good[name] = str(world["int"][0])
    found = []
    for name, converter in route.params:
        for what, value in BAD_VALUES.items():
            if converter == "IntConverter" and not re.fullmatch(r"[0-9]+", value):
                continue
            found.append((f"{name}={what}", route.fill({**good, name: value})))
    return found


@pytest.fixture
def fuzzer(monkeypatch, settings):
    recorder = ReadRecorder()
    recorder.install(monkeypatch)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000000/min", "user": "1000000/min"},
    }
    # Thousands of 4xx answers would each log a warning (a traceback for a 403).
    quiet = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    yield Fuzzer(recorder)
    for logger, level in zip(quiet, levels, strict=True):
        logger.setLevel(level)


def fuzz_site(routes: list[Route], world, fuzzer: Fuzzer) -> None:
    targets: dict[tuple[str, str, str], Target] = defaultdict(Target)
    clients = {who: _client(user) for who, user in world["users"].items()}

    # 1. Every URL with good path parameters, read as every user: what each
    #    view reads, and the forms and links its page offers.
    for route in routes:
        for path in _good_urls(route, world):
            for who, client in clients.items():
                targets[who, "POST", path].keys |= fuzzer.send(client, who, "POST", path, {})
                targets[who, "GET", path].keys |= fuzzer.send(client, who, "GET", path, {})
                response = fuzzer.last_response
                if response is None or response.status_code != 200:
                    continue
                if "html" not in response.get("Content-Type", ""):
                    continue
                parser = PageParser(path)
                parser.feed(response.content.decode())
                for form in parser.forms:
                    target = targets[who, form.method.upper(), form.action]
                    target.keys |= set(form.defaults) | set(form.choices)
                    target.defaults = {**form.defaults, **target.defaults}
                    for name, options in form.choices.items():
                        known = set(target.choices.get(name, []))
                        target.choices[name] = sorted(known | set(options))
                for link_path, names in parser.link_params.items():
                    targets[who, "GET", link_path].keys |= names

    # 2. Every known parameter of every target, one at a time, with each bad
    #    value (the others as the page's form has them); then every choice of
    #    a select with all the other parameters bad (a bulk "assign" with bad
    #    ticket ids). Parameters a view reads only now are added as found.
    for (who, method, path), target in targets.items():
        client = clients[who]
        done: set[str] = set()
        while pending := sorted(target.keys - done):
            for key in pending:
                done.add(key)
                for value in BAD_VALUES.values():
                    data = {**target.defaults, key: value}
                    target.keys |= fuzzer.send(client, who, method, path, data)
        # A choice that makes the view read more than the page's default
        # does (bulk "assign" reads the agent) gets every bad value.
        usual = fuzzer.send(client, who, method, path, target.defaults)
        for name, options in target.choices.items():
            for option in options:
                first = next(iter(BAD_VALUES.values()))
                data = {key: first for key in target.keys} | {name: option}
                if not fuzzer.send(client, who, method, path, data) - usual - {name}:
                    continue
                for value in BAD_VALUES.values():
                    data = {key: value for key in target.keys} | {name: option}
                    fuzzer.send(client, who, method, path, data)

    # 3. Bad path parameters.
    for route in routes:
        for _what, path in _bad_urls(route, world):
            for who, client in clients.items():
                for method in ("GET", "POST"):
                    fuzzer.send(client, who, method, path, {})


# Over 11,000 requests (every page, form and parameter, as each kind of user):
# two to three minutes on a quiet machine, longer on a busy one.
@pytest.mark.timeout(900)
def test_no_page_or_form_answers_a_bad_value_with_a_500(world, fuzzer):
    routes = site_routes()
    assert any(r.route == "tickets/<str:key>/" for r in routes)  # the walk found the site
    fuzz_site(routes, world, fuzzer)
    print(f"bad input: {fuzzer.requests} requests")
    assert not fuzzer.failures, (
        f"{len(fuzzer.failures)} of {fuzzer.requests} requests failed:\n"
        + "\n".join(fuzzer.failures[:60])
    )


@pytest.mark.urls("tests.bad_input_urls")
def test_a_page_added_later_is_covered_without_listing_it(world, fuzzer):
    """What makes this cover later pages: a route and parameters the test has
    never been told about are found and their 500s reported."""
    routes = [r for r in site_routes() if r.route.startswith("later/")]
    assert [r.route for r in routes] == ["later/<str:name>/", "later/<str:name>/save/"]
    fuzz_site(routes, world, fuzzer)
    found = "\n".join(fuzzer.failures)
    # A parameter only its view reads, one only a form on its page sends, a
    # parameter read only once another is valid, and a path parameter.
    assert "'page'" in found and "ValueError" in found
    assert "'amount'" in found
    assert "'extra'" in found
    assert "later/%C2%B2/" in found


# --- the API, from its schema -----------------------------------------------------------


@dataclass
class ApiCaller:
    """Sends one API request as one user, rolled back, noting any 5xx."""

    fuzzer: Fuzzer
    who: str
    token: str
    client: Client = field(default_factory=Client)
    sent: int = 0

    def __call__(self, method: str, path: str, *, query=None, payload=None) -> None:
        self.sent += 1
        what = f"{self.who} {method} {_short(path)} {_short(query or payload)}"
        response = None
        with transaction.atomic():
            try:
                response = self.client.generic(
                    method.upper(),
                    path + ("?" + _qs(query) if query else ""),
                    json.dumps(payload) if payload is not None else "",
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Token {self.token}",
                )
            except Exception as error:  # the test client re-raises a view's error
                self.fuzzer.failures.append(f"{what}: {type(error).__name__}: {error}"[:400])
            transaction.set_rollback(True)
        if response is not None and response.streaming:
            b"".join(response.streaming_content)  # closes the downloaded file
        if response is not None and response.status_code >= 500:
            self.fuzzer.failures.append(f"{what}: {response.status_code}")


def test_no_api_parameter_or_field_answers_a_bad_value_with_a_500(world, fuzzer):
    schema = json.loads(_client().get("/api/schema/", {"format": "json"}).content)
    ticket = world["ticket"]
    attachment = ticket.messages.filter(attachments__isnull=False).first().attachments.first()
    good_path = {"key": ticket.key, "id": str(attachment.pk)}
    sent = 0
    for who in ("customer", "manager"):
        token, _ = Token.objects.get_or_create(user=world["users"][who])
        call = ApiCaller(fuzzer, who, token.key)
        for template, operations in schema["paths"].items():
            for method, operation in operations.items():
                params = operation.get("parameters", [])
                body = operation.get("requestBody", {}).get("content", {})
                fields = _body_fields(schema, body.get("application/json", {}).get("schema"))
                for value in BAD_VALUES.values():
                    for param in params:
                        if param["in"] == "path":
                            call(method, _api_path(template, good_path, {param["name"]: value}))
                        elif param["in"] == "query":
                            path = _api_path(template, good_path, {})
                            call(method, path, query={param["name"]: value})
                    for name in fields:
                        path = _api_path(template, good_path, {})
                        call(method, path, payload={name: value})
                        if re.fullmatch(r"-?[0-9]{1,30}", value):
                            call(method, path, payload={name: int(value)})
        sent += call.sent
    assert sent > 100
    assert not fuzzer.failures, (
        f"{len(fuzzer.failures)} of {sent} API requests failed:\n" + "\n".join(fuzzer.failures[:60])
    )


def _api_path(template: str, good: dict[str, str], bad: dict[str, str]) -> str:
    values = {**good, **bad}
    return re.sub(r"\{(\w+)\}", lambda m: quote(values[m.group(1)], safe=""), template)


def _qs(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())


def _body_fields(schema: dict, node: dict | None) -> list[str]:
    if not node:
        return []
    while "$ref" in node:
        target = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return list(node.get("properties", {}))


# --- the cases the issue names, one by one ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HD-1042", 1042),
        ("hd-1042", 1042),
        (" 1042 ", 1042),
        ("HD-²", None),
        ("HD-①", None),
        ("HD-١٢", None),  # Arabic-Indic digits: int() reads them, a key has none
        ("HD-1\x00", None),
        ("HD-0", None),
        ("HD--1", None),
        ("HD- 1", None),
        ("HD-9223372036854775807", 2**63 - 1),
        ("HD-9223372036854775808", None),  # past the bigint primary key
        ("HD-" + "9" * 5000, None),
    ],
)
def test_parse_ticket_key_reads_ascii_keys_in_the_bigint_range(settings, text, expected):
    from tickets.models import parse_ticket_key

    settings.HELPDESK_TICKET_KEY_PREFIX = "HD"
    assert parse_ticket_key(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), (" 7 ", 7), (7, 7), ("-1", None), ("²", None), ("1_000", None), (True, None)],
)
def test_parse_id_takes_ascii_digits_only(value, expected):
    from core.inputs import parse_id

    assert parse_id(value) == expected


@pytest.mark.parametrize("version", ["1000000000000000000", "99999999999999999999", "²", "-5"])
def test_check_version_refuses_a_version_it_never_wrote(world, version):
    """OverflowError for version=10**18 (the reply, properties and API PATCH paths)."""
    from tickets.errors import DomainError
    from tickets.services.properties import check_version

    with pytest.raises(DomainError) as refused:
        check_version(world["ticket"], version, world["users"]["manager"])
    assert refused.value.field == "version"


def test_bulk_actions_go_back_only_to_this_site(world):
    client = _client(world["users"]["manager"])
    ticket = world["ticket"]
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "²"):
        response = client.post(
            "/tickets/bulk/",
            {"action": "priority", "priority": "high", "ticket": ticket.pk, "next": elsewhere},
        )
        assert response.status_code == 302
        assert response["Location"] == "/tickets/", elsewhere
    back = client.post(
        "/tickets/bulk/",
        {"action": "tag", "tag": "x", "ticket": ticket.pk, "next": "/tickets/?queue=all"},
    )
    assert back["Location"] == "/tickets/?queue=all"


def test_search_refuses_a_nul_with_a_message(world):
    response = _client(world["users"]["customer"]).get("/search/", {"q": "HD-1\x00"})
    assert response.status_code == 400
    assert "Null characters are not allowed" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"queue": "all", "assignee": "²"}, 400),  # a form error, not a ValueError
        ({"queue": "all", "created_to": "9999-12-31"}, 200),  # no day after it: open end
        ({"queue": "all", "created_from": "0001-01-01"}, 200),
        ({"queue": "all", "cursor": "²_²"}, 400),
    ],
)
def test_queue_filters_take_edge_values(world, params, status):
    response = _client(world["users"]["manager"]).get("/tickets/", params)
    assert response.status_code == status
