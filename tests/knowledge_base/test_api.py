"""The knowledge-base API (/api/v1/kb/): who sees what in search, lists and
single articles; its inputs, errors, rate limit, pages, query counts and
schema."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from knowledge_base import services
from knowledge_base.models import Category, Section, Visibility
from tests.tickets.api.conftest import api_as  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/kb/search/"
ARTICLES = "/api/v1/kb/articles/"
CATEGORIES = "/api/v1/kb/categories/"


@pytest.fixture
def library(make_article, kb_section):
    """One article per visibility about passwords, each with a word of its own,
    an internal-only section, and a draft nobody may read."""
    internal_section = Section.objects.create(
        category=kb_section.category, name="Runbooks", slug="runbooks"
    )
    return {
        "public": make_article(
            "Reset your password",
            "Choose **Forgot password** on the sign-in page. Pelicanword.",
            tags="password, sign-in",
        ),
        "customers": make_article(
            "Password rules for your organisation",
            "Your administrator sets the password length. Heronword.",
            visibility=Visibility.CUSTOMERS,
        ),
        "internal": make_article(
            "Unlocking a password for a customer",
            "Agents open the admin console and clear the lock. Flamingoword.",
            visibility=Visibility.INTERNAL,
            section=internal_section,
        ),
        "draft": make_article(
            "Password expiry (draft)", "Not written yet. Ostrichword.", publish=False
        ),
    }


def _search(client, q, **params):
    return client.get(SEARCH, {"q": q, **params})


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- visibility -------------------------------------------------------------------------


def test_search_finds_what_each_reader_may_read(library, customer, agent, api_as):  # noqa: F811
    public, for_customers, internal = (library[k].pk for k in ("public", "customers", "internal"))
    assert _ids(_search(APIClient(), "password")) == {public}
    assert _ids(_search(api_as(customer), "password")) == {public, for_customers}
    assert _ids(_search(api_as(agent), "password")) == {public, for_customers, internal}

    # A word only the hidden article holds finds nothing, in results and count.
    for client, word in (
        (APIClient(), "heronword"),
        (api_as(customer), "flamingoword"),
        (api_as(agent), "ostrichword"),  # drafts are nobody's to search
    ):
        body = _search(client, word).json()
        assert body == {"results": [], "total": 0}


def test_search_results_are_shaped_and_ranked(library, make_article, customer, api_as):  # noqa: F811
    make_article("Invoices", "Where to find the password of a PDF invoice.")
    body = _search(APIClient(), "password").json()
    first = body["results"][0]
    assert set(first) == {"id", "title", "slug", "url", "snippet", "score"}
    # A title match ranks above a body match.
    assert first["title"] == "Reset your password"
    assert first["url"] == "http://testserver/help/articles/reset-your-password/"
    assert "<mark>" in body["results"][0]["snippet"] + body["results"][1]["snippet"]
    scores = [row["score"] for row in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["total"] == 2
    assert len(_search(APIClient(), "password", limit=1).json()["results"]) == 1


def test_snippets_never_show_hidden_text(library, customer, api_as):  # noqa: F811
    for client, hidden in (
        (APIClient(), ("heronword", "administrator", "flamingoword")),
        (api_as(customer), ("flamingoword", "admin console", "unlocking")),
    ):
        text = json.dumps(_search(client, "password").json()).lower()
        assert "password" in text
        assert not [word for word in hidden if word in text]


def test_articles_list_and_retrieve_by_visibility(library, customer, agent, api_as):  # noqa: F811
    listed = {
        "anonymous": APIClient(),
        "customer": api_as(customer),
        "agent": api_as(agent),
    }
    expected = {
        "anonymous": {"public"},
        "customer": {"public", "customers"},
        "agent": {"public", "customers", "internal"},
    }
    for who, client in listed.items():
        ids = _ids(client.get(ARTICLES))
        assert ids == {library[k].pk for k in expected[who]}, who
        for kind in ("public", "customers", "internal", "draft"):
            article = library[kind]
            for ref in (article.pk, article.slug):
                response = client.get(f"{ARTICLES}{ref}/")
                if kind in expected[who]:
                    assert response.status_code == 200, (who, kind)
                    assert response.json()["id"] == article.pk
                else:
                    assert response.status_code == 404, (who, kind)
                    assert response.json() == {"error": "Not found."}


def test_article_detail_is_sanitised_and_markdown_is_for_editors(
    make_article,
    customer,
    agent,
    api_as,  # noqa: F811
):
    article = make_article(
        "Tricky",
        '<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror="alert(1)">'
        "\n\n## Steps\n\n1. One",
        tags="Login",
    )
    body = api_as(customer).get(f"{ARTICLES}{article.slug}/").json()
    assert "<h2>Steps</h2>" in body["body_html"]
    html = body["body_html"].lower()
    # What was raw HTML or a script link is text now, never markup.
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r"href=[\"']?javascript:", html)
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html)
    assert body["body"] is None
    assert body["tags"] == ["login"]
    assert body["category"]["slug"] == "your-account" and body["section"]["slug"] == "signing-in"
    assert api_as(agent).get(f"{ARTICLES}{article.pk}/").json()["body"].startswith("<script>")


def test_related_articles_are_only_those_the_reader_may_read(
    library,
    manager,
    customer,
    api_as,  # noqa: F811
):
    article = library["public"]
    services.article_save(
        actor=manager,
        article=article,
        title=article.title,
        body=article.body,
        section=article.section,
        related=[library["customers"], library["internal"]],
    )
    related = api_as(customer).get(f"{ARTICLES}{article.pk}/").json()["related"]
    assert [r["id"] for r in related] == [library["customers"].pk]
    assert APIClient().get(f"{ARTICLES}{article.pk}/").json()["related"] == []


def test_an_old_slug_still_finds_the_article(make_article, manager):
    article = make_article("Sign in", "Words.")
    services.article_save(
        actor=manager, article=article, title="Signing in", body="Words.", slug="signing-in"
    )
    services.article_publish(article=article, actor=manager)
    response = APIClient().get(f"{ARTICLES}sign-in/")
    assert response.status_code == 200 and response.json()["slug"] == "signing-in"


def test_categories_show_only_sections_with_readable_articles(library, customer, agent, api_as):  # noqa: F811
    Category.objects.create(name="Empty", slug="empty", position=9)
    customer_view = api_as(customer).get(CATEGORIES).json()
    assert [c["slug"] for c in customer_view] == ["your-account"]
    assert [s["slug"] for s in customer_view[0]["sections"]] == ["signing-in"]
    agent_view = api_as(agent).get(CATEGORIES).json()
    assert [s["slug"] for s in agent_view[0]["sections"]] == ["runbooks", "signing-in"]
    one = APIClient().get(f"{CATEGORIES}your-account/").json()
    assert one["url"] == "http://testserver/help/categories/your-account/"
    assert one["sections"][0]["url"].endswith("/help/categories/your-account/signing-in/")
    assert APIClient().get(f"{CATEGORIES}empty/").status_code == 404
    assert APIClient().get(f"{CATEGORIES}{one['id']}/").json()["slug"] == "your-account"


# --- lists: filters and pages ---------------------------------------------------------------


def test_list_filters_by_category_section_and_tag(library, make_article, agent, api_as):  # noqa: F811
    other = Category.objects.create(name="Billing", slug="billing")
    invoices = Section.objects.create(category=other, name="Invoices", slug="invoices")
    bill = make_article("Your invoice", "Words.", section=invoices, tags="billing")
    client = api_as(agent)
    assert _ids(client.get(ARTICLES, {"category": "billing"})) == {bill.pk}
    assert _ids(client.get(ARTICLES, {"category": str(other.pk)})) == {bill.pk}
    assert _ids(client.get(ARTICLES, {"section": "runbooks"})) == {library["internal"].pk}
    assert _ids(client.get(ARTICLES, {"section": invoices.pk})) == {bill.pk}
    # A section named within a category it is not in names nothing.
    response = client.get(ARTICLES, {"category": "billing", "section": "runbooks"})
    assert response.status_code == 400 and set(response.json()["fields"]) == {"section"}
    assert _ids(client.get(ARTICLES, {"tag": "sign-in"})) == {library["public"].pk}
    for name in ("category", "section", "tag"):
        response = client.get(ARTICLES, {name: "nothing-like-this"})
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {name}


def test_list_pages_follow_next_without_gaps_or_repeats(make_article):
    made = {make_article(f"Article {n}", "Words.").pk for n in range(5)}
    seen: list[int] = []
    url = f"{ARTICLES}?page_size=2"
    pages = 0
    while url:
        body = APIClient().get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3 and sorted(seen) == sorted(made) and len(seen) == len(made)


# --- input, errors, limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "password", "limit": "0"}, "limit"),
        ({"q": "password", "limit": "51"}, "limit"),
        ({"q": "password", "limit": "²"}, "limit"),
    ],
)
def test_bad_search_input_is_a_json_400(params, field):
    response = APIClient().get(SEARCH, params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid input." and set(body["fields"]) == {field}


@pytest.mark.parametrize("cursor", ["nonsense", "n_5", "²_1"])
def test_a_bad_or_spent_cursor(make_article, cursor):
    make_article("One", "Words.")
    response = APIClient().get(ARTICLES, {"cursor": cursor})
    if cursor == "n_5":  # a cursor past every row: an empty last page
        assert response.json() == {"next": None, "results": []}
    else:
        assert response.status_code == 400 and "cursor" in response.json()["fields"]


def test_odd_queries_are_answered(library):
    for q in ('"reset your"', "password:*", "!!! & | ()", "pass", "passwrod", "\x01\x1b[31m"):
        response = _search(APIClient(), q)
        assert response.status_code == 200, (q, response.content)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/kb/", "/api/v1/kb/nothing/", "/api/v1/kb/articles/a/b/", "/api/v1/kb/search/x/"],
)
def test_unknown_kb_paths_are_a_json_404(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found."}


def test_anonymous_search_has_its_own_rate_limit(library, settings, customer, api_as):  # noqa: F811
    settings.HELPDESK_KB_SEARCH_ANON_RATE = "3/min"
    client = APIClient()
    for _ in range(3):
        assert _search(client, "password").status_code == 200
    refused = _search(client, "password")
    assert refused.status_code == 429
    assert "throttled" in refused.json()["error"].lower() and int(refused["Retry-After"]) > 0
    # Other addresses, signed-in callers and the rest of the API are not held back.
    assert _search(APIClient(REMOTE_ADDR="10.0.0.9"), "password").status_code == 200
    assert _search(api_as(customer), "password").status_code == 200
    assert client.get(ARTICLES).status_code == 200


def test_a_wrong_token_is_a_401_not_an_anonymous_search(library):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = _search(client, "password")
    assert response.status_code == 401 and "error" in response.json()


# --- query counts ---------------------------------------------------------------------------


# Queries per request at most: search (ranked ids, the page with snippets, the
# search log's row and count), a list (each filter's lookup, the page), an
# article (it, its related ones), categories (them, their sections); a
# signed-in caller adds the token.
# (2 of them are the SET and RESET of knowledge_base.search._index_scans.)
BOUNDS = {"anonymous": 6, "customer": 7}


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def _fill(make_article, n: int, start: int) -> None:
    for i in range(start, start + n):
        make_article(
            f"Password help {i}",
            "Reset the password from the sign-in page.",
            tags=f"password, tag{i}",
        )


def test_query_counts_do_not_grow_with_the_articles(
    make_article,
    manager,
    customer,
    api_as,  # noqa: F811
    warm_caches,
    django_assert_max_num_queries,
):
    first = make_article("Reset your password", "Words.")
    clients = {"anonymous": APIClient(), "customer": api_as(customer)}
    requests = [
        (SEARCH, {"q": "password", "limit": 50}),
        (ARTICLES, {"page_size": 100}),
        (ARTICLES, {"category": "your-account", "section": "signing-in", "tag": "password"}),
        (f"{ARTICLES}{first.slug}/", None),
        (CATEGORIES, None),
        (f"{CATEGORIES}your-account/", None),
    ]
    counts = {}
    for size, start in ((3, 0), (30, 3)):
        _fill(make_article, size, start)
        warm_caches(customer)
        for who, client in clients.items():
            for url, params in requests:
                _queries(client, url, params)  # the day's first search adds its log row
                counts[size, who, url, str(params)] = _queries(client, url, params)
    for (size, who, url, params), count in counts.items():
        if size == 30:
            assert count == counts[3, who, url, params], (who, url, params)
    for who, client in clients.items():
        for url, params in requests:
            with django_assert_max_num_queries(BOUNDS[who]):
                client.get(url, params or {})


# --- schema ---------------------------------------------------------------------------------


def test_schema_documents_the_kb_api():
    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    paths = schema["paths"]
    for path in (
        "/api/v1/kb/search/",
        "/api/v1/kb/articles/",
        "/api/v1/kb/articles/{ref}/",
        "/api/v1/kb/categories/",
        "/api/v1/kb/categories/{ref}/",
    ):
        operation = paths[path]["get"]
        assert operation["tags"] == ["kb"], path
        assert {} in operation["security"], path  # callable without credentials
        assert "examples" in json.dumps(operation["responses"]["200"]), path
    search = paths["/api/v1/kb/search/"]["get"]
    q = next(p for p in search["parameters"] if p["name"] == "q")
    assert q["required"] is True and q["schema"]["maxLength"] == 200
    assert "allowEmptyValue" not in q
    assert set(search["responses"]) >= {"200", "400", "429"}
