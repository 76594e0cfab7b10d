"""Search of the help centre (knowledge_base/search.py) on PostgreSQL:
ranking on a small fixed corpus, typo tolerance, phrases and prefixes,
visibility in results, snippets and totals, escaped snippets, fusion with the
semantic list, a constant number of queries, and the search and content-gaps
pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge_base import search, search_fallback
from knowledge_base.models import SearchTerm, Visibility
from knowledge_base.search import reciprocal_rank_fusion, search_articles


def titles(results):
    return [hit.article.title for hit in results.hits]


@pytest.fixture
def corpus(make_article):
    """A small help centre: what each test searches."""
    return {
        "password": make_article(
            "Reset your password",
            "Open the sign-in page and choose **Forgot password**. We e-mail you a link "
            "that works for one hour.",
            summary="Get back into your account when you forgot the password.",
            tags="login, password",
        ),
        "invoice": make_article(
            "Download an invoice",
            "Invoices are under Billing. Each invoice is a PDF; your password is never on it.",
            tags="billing",
        ),
        "api": make_article(
            "Create an API key",
            "Keys are made under Settings → API. Keep the key secret: it works like a "
            "password for scripts.",
        ),
        "export": make_article(
            "Export your data",
            "Use the export button to download every report as CSV. Two factor "
            "authentication is asked first.",
        ),
        "2fa": make_article(
            "Two-factor authentication",
            "Turn on two factor authentication with an authenticator app. You are asked "
            "for a code after the authentication.",
        ),
    }


@pytest.fixture
def no_semantic(monkeypatch):
    monkeypatch.setattr(search, "_semantic_enabled", lambda: False)


pytestmark = pytest.mark.usefixtures("no_semantic")


def test_a_title_match_beats_body_matches(corpus):
    results = search_articles(None, "password")
    assert titles(results)[0] == "Reset your password"
    assert set(titles(results)) == {
        "Reset your password",
        "Download an invoice",
        "Create an API key",
    }
    assert results.total == 3
    assert results.hits[0].score > results.hits[1].score


def test_stemming_finds_other_forms_of_a_word(corpus):
    assert titles(search_articles(None, "exporting reports"))[0] == "Export your data"
    assert titles(search_articles(None, "invoices"))[0] == "Download an invoice"


def test_a_typo_still_finds_the_article(corpus):
    assert titles(search_articles(None, "pasword"))[0] == "Reset your password"
    assert titles(search_articles(None, "reset pasword"))[0] == "Reset your password"
    assert titles(search_articles(None, "dowload invoise"))[0] == "Download an invoice"


def test_corrected_words_are_all_needed_before_any_one_will_do(
    corpus, django_assert_max_num_queries
):
    # "pasword invoise": the corrected query "password invoice" finds the one
    # article holding both, not every article holding either word.
    assert titles(search_articles(None, "pasword invoise")) == ["Download an invoice"]
    # When the corrected words together find nothing, any one of them will do
    # (and titles like the query): that is the last, longest path.
    with django_assert_max_num_queries(7):  # + SET and RESET around the ranking
        found = search_articles(None, "pasword authenticatoin")
    assert set(titles(found)) >= {"Reset your password", "Two-factor authentication"}


def test_the_last_word_is_a_prefix_while_typing(corpus):
    assert titles(search_articles(None, "reset passw"))[0] == "Reset your password"
    assert titles(search_articles(None, "invo"))[0] == "Download an invoice"
    assert titles(search_articles(None, "authent")) == [
        "Two-factor authentication",
        "Export your data",
    ]


def test_a_quoted_phrase_matches_only_those_words_together(corpus):
    assert set(titles(search_articles(None, "two factor authentication"))) == {
        "Export your data",
        "Two-factor authentication",
    }
    assert set(titles(search_articles(None, "authentication asked"))) == {
        "Export your data",
        "Two-factor authentication",
    }
    assert titles(search_articles(None, '"authentication is asked"')) == ["Export your data"]


def test_match_all_needs_every_word_and_any_needs_one(corpus):
    assert titles(search_articles(None, "password invoice pdf")) == ["Download an invoice"]
    assert titles(search_articles(None, "password invoice pdf", match="any"))[0] == (
        "Download an invoice"
    )
    anything = search_articles(None, "I forgot my password and need an invoice", match="any")
    assert {"Reset your password", "Download an invoice"} <= set(titles(anything))
    assert titles(anything)[0] in {"Reset your password", "Download an invoice"}


def test_snippets_mark_the_matches_and_escape_the_text(make_article):
    make_article(
        "Scripts in articles",
        'Never paste <script>alert(1)</script> into a <b onclick="x()">ticket</b>; '
        'write a<b & "quotes" instead.',
    )
    hit = search_articles(None, "paste ticket").hits[0]
    assert "<mark>paste</mark>" in hit.snippet and "<mark>ticket</mark>" in hit.snippet
    assert "<script" not in hit.snippet and "<b" not in hit.snippet
    assert "onclick" not in hit.snippet
    assert "a&lt;b &amp; &quot;quotes&quot;" in hit.snippet
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippets_show_text_not_markdown(corpus):
    snippet = search_articles(None, "forgot").hits[0].snippet
    assert "**" not in snippet and "<mark>Forgot</mark>" in snippet


@pytest.fixture
def visibility_corpus(make_article):
    make_article("Refund rules for everyone", "How a refund works.")
    make_article(
        "Refund rules for customers", "Customer refund steps.", visibility=Visibility.CUSTOMERS
    )
    make_article(
        "Refund rules for agents",
        "Internal refund override code 4242.",
        visibility=Visibility.INTERNAL,
    )
    make_article("Refund draft", "Unpublished refund text.", publish=False)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (None, {"Refund rules for everyone"}),
        ("customer", {"Refund rules for everyone", "Refund rules for customers"}),
        (
            "agent",
            {"Refund rules for everyone", "Refund rules for customers", "Refund rules for agents"},
        ),
    ],
)
def test_visitors_see_only_what_they_may_read(request, visibility_corpus, who, expected):
    user = request.getfixturevalue(who) if who else None
    results = search_articles(user, "refund")
    assert set(titles(results)) == expected
    assert results.total == len(expected)
    snippets = " ".join(hit.snippet for hit in results.hits)
    assert ("4242" in snippets) == (who == "agent")
    assert "Unpublished" not in snippets
    # The typo-tolerant pass is filtered the same way.
    fuzzy = search_articles(user, "refnd overide")
    assert ("Refund rules for agents" in titles(fuzzy)) == (who == "agent")
    assert "Refund draft" not in titles(fuzzy)


def test_pages_and_totals(make_article):
    for n in range(12):
        make_article(f"Shipping note {n}", "Shipping takes a few days.")
    first = search_articles(None, "shipping", limit=5)
    second = search_articles(None, "shipping", limit=5, offset=5)
    assert first.total == second.total == 12
    assert len(first.hits) == len(second.hits) == 5
    assert not {h.article.pk for h in first.hits} & {h.article.pk for h in second.hits}


def test_an_empty_query_finds_nothing_and_records_nothing(corpus):
    assert search_articles(None, "  ?! ", record=True).total == 0
    assert not SearchTerm.objects.exists()


def test_record_logs_the_term_with_its_result_count(corpus):
    search_articles(None, "Password", record=True)
    search_articles(None, "zebra crossing", record=True)
    rows = dict(SearchTerm.objects.values_list("term", "without_results"))
    assert rows == {"password": 0, "zebra crossing": 1}


def test_the_number_of_queries_does_not_grow_with_the_results(
    make_article, django_assert_max_num_queries, customer
):
    for n in range(3):
        make_article(f"Delivery {n}", "Delivery by courier.")
    search_articles(customer, "delivery")  # permissions cached on the user
    # Each count holds the SET and RESET around the ranking (_index_scans).
    with django_assert_max_num_queries(4):
        small = search_articles(customer, "delivery")
    for n in range(3, 25):
        make_article(f"Delivery {n}", "Delivery by courier.")
    with django_assert_max_num_queries(4):
        large = search_articles(customer, "delivery", limit=20)
    assert (small.total, large.total, len(large.hits)) == (3, 25, 20)
    # match="any" corrects misspelt words first; the typo-tolerant pass of
    # match="all" runs when the words as typed find nothing.
    with django_assert_max_num_queries(5):
        assert search_articles(customer, "parcel delivery", match="any", limit=20).total == 25
    with django_assert_max_num_queries(6):
        assert search_articles(customer, "delivry").total == 25


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([(1, 9.0), (2, 5.0), (3, 1.0)], [(2, 0.9), (4, 0.8), (1, 0.7)])
    assert [article_id for article_id, _ in fused] == [2, 1, 4, 3]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    # A tie keeps the first list's order.
    assert [i for i, _ in reciprocal_rank_fusion([(5, 1.0)], [(6, 1.0)])] == [5, 6]
    # A heavier list wins a disagreement.
    weighted = reciprocal_rank_fusion([(5, 1.0), (6, 0.5)], [(6, 1.0), (5, 0.5)], weights=(1, 2))
    assert [i for i, _ in weighted] == [6, 5]


def test_semantic_results_are_fused_when_enabled(corpus, monkeypatch):
    """The fusion path with a stand-in semantic list: a paraphrase no word of
    which is in the article still finds it."""
    from knowledge_base import embeddings

    monkeypatch.setattr(search, "_semantic_enabled", lambda: True)
    seen = {}

    def semantic_rank(query, *, visibilities, limit):
        seen.update(query=query, visibilities=visibilities, limit=limit)
        return [(corpus["password"].pk, 0.71), (corpus["invoice"].pk, 0.1)]

    monkeypatch.setattr(embeddings, "semantic_rank", semantic_rank, raising=False)
    assert search_articles(None, "locked out", semantic=False).total == 0
    results = search_articles(None, "locked out")
    assert titles(results)[0] == "Reset your password"
    # The weak one (below SEMANTIC_MIN_COSINE) is not a result.
    assert "Download an invoice" not in titles(results)
    assert seen == {
        "query": "locked out",
        "visibilities": ["public"],
        "limit": search.FUSION_DEPTH,
    }
    assert results.total == 1


def test_the_substring_fallback_ranks_and_filters_like_the_real_search(visibility_corpus, customer):
    """The SQLite demo's path (called directly: its SQL is portable)."""
    ranked, total = search_fallback.fallback_ranked(customer, ["refund", "customers"], "all", 10)
    assert total == 1
    ranked, total = search_fallback.fallback_ranked(customer, ["refund"], "all", 10)
    assert total == 2
    ranked, total = search_fallback.fallback_ranked(None, ["everyone", "steps"], "any", 10)
    assert total == 1
    # Title matches first.
    ranked, total = search_fallback.fallback_ranked(customer, ["customer", "refund"], "all", 10)
    assert total == 1
    ranked, total = search_fallback.fallback_ranked(customer, ["customers", "how"], "any", 10)
    assert total == 2 and ranked[0][1] > ranked[1][1]
    ranked, _ = search_fallback.fallback_ranked(customer, ["steps"], "all", 10)
    rows = search_fallback.fallback_page(customer, ranked, ["steps"])
    assert [article.title for article, _snippet, _score in rows] == ["Refund rules for customers"]
    assert "<mark>steps</mark>" in rows[0][1]


# --- pages ----------------------------------------------------------------------------------


def test_the_search_page_lists_ranked_results_with_snippets(client, corpus):
    response = client.get(reverse("kb:search"), {"q": "password"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Reset your password") < body.index("Download an invoice")
    assert "<mark>password</mark>" in body
    assert "3 articles" in body
    # Logged for the content gaps, once per search.
    assert SearchTerm.objects.get().searches == 1


def test_the_search_page_pages_through_results(client, make_article):
    for n in range(13):
        make_article(f"Shipping note {n}", "Shipping takes a few days.")
    first = client.get(reverse("kb:search"), {"q": "shipping"}).content.decode()
    second = client.get(reverse("kb:search"), {"q": "shipping", "page": 2}).content.decode()
    assert first.count('class="search-hit"') == 10 and second.count('class="search-hit"') == 3
    assert "page 2 of 2" in second and 'rel="prev"' in second and 'rel="next"' in first
    assert SearchTerm.objects.get().searches == 1
    assert client.get(reverse("kb:search"), {"q": "shipping", "page": "x"}).status_code == 200


def test_no_results_offers_a_request(client, customer, corpus):
    anonymous = client.get(reverse("kb:search"), {"q": "zebra crossing"}).content.decode()
    assert "No articles match" in anonymous and "Log in to submit a request" in anonymous
    client.force_login(customer)
    signed_in = client.get(reverse("kb:search"), {"q": "zebra crossing"}).content.decode()
    assert reverse("tickets:new") in signed_in and "Submit a request" in signed_in
    assert SearchTerm.objects.get().without_results == 2


def test_the_search_page_shows_only_what_the_visitor_may_read(client, customer, visibility_corpus):
    anonymous = client.get(reverse("kb:search"), {"q": "refund"}).content.decode()
    assert "Refund rules for everyone" in anonymous and "for customers" not in anonymous
    assert "1 article<" in anonymous
    client.force_login(customer)
    signed_in = client.get(reverse("kb:search"), {"q": "refund"}).content.decode()
    assert "Refund rules for customers" in signed_in and "4242" not in signed_in


@pytest.fixture
def gaps_data(make_article, customer):
    from datetime import timedelta

    from django.utils import timezone

    from knowledge_base import services
    from knowledge_base.models import ArticleFeedback

    today = timezone.localdate()
    SearchTerm.objects.create(term="refund crypto", day=today, searches=5, without_results=5)
    SearchTerm.objects.create(
        term="dark mode", day=today - timedelta(days=40), searches=9, without_results=9
    )
    SearchTerm.objects.create(term="password", day=today, searches=7, without_results=0)
    article = make_article("Export your data", "Use the export button.")
    services.feedback_record(
        article=article, user=customer, helpful=False, comment="The button <b>is</b> gone"
    )
    old = make_article("Old screen", "Gone.")
    ArticleFeedback.objects.create(
        article=old, helpful=False, visitor="v1", created_at=timezone.now() - timedelta(days=60)
    )


def test_content_gaps_list_unanswered_searches_and_unhelpful_articles(client, manager, gaps_data):
    client.force_login(manager)
    page = client.get(reverse("kb:gaps")).content.decode()
    assert "refund crypto" in page and "dark mode" not in page and "password" not in page
    assert reverse("kb:new") + "?title=refund%20crypto" in page
    assert "Export your data" in page and "The button &lt;b&gt;is&lt;/b&gt; gone" in page
    assert "Old screen" not in page
    longer = client.get(reverse("kb:gaps"), {"days": 90}).content.decode()
    assert "dark mode" in longer and "Old screen" in longer
    assert longer.index("dark mode") < longer.index("refund crypto")  # 9 misses before 5


def test_content_gaps_are_for_reviewers_only(client, agent, customer, gaps_data):
    assert client.get(reverse("kb:gaps")).status_code == 302
    for user in (agent, customer):
        client.force_login(user)
        assert client.get(reverse("kb:gaps")).status_code == 403


def test_only_a_bounded_set_of_candidates_is_scored_but_title_matches_are_among_them(
    make_article, monkeypatch, client
):
    monkeypatch.setattr(search, "CANDIDATES", 3)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 2)
    monkeypatch.setattr(search, "MAX_TOTAL", 2)
    make_article("Note 0", "A word about refunds in the body.")
    make_article("Refunds", "How refunds work.")
    exact = search_articles(None, "refund")
    assert exact.hits[0].article.title == "Refunds" and exact.total == 2
    # Many body matches, one title match: at most CANDIDATES + 1 of the body
    # matches are scored, the title match among the candidates, and the
    # total says "more than MAX_TOTAL".
    for n in range(1, 8):
        make_article(f"Note {n}", "A word about refunds in the body.")
    results = search_articles(None, "refund")
    assert results.hits[0].article.title == "Refunds"
    assert len(results.hits) <= 5  # the title match and 4 others at most
    assert results.total == 3  # more than MAX_TOTAL
    monkeypatch.setattr("knowledge_base.views.search.MAX_TOTAL", 2)
    page = client.get(reverse("kb:search"), {"q": "refund"}).content.decode()
    assert "More than 2 articles" in page


def test_when_titles_fill_the_bound_the_body_matches_are_not_read(make_article, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 3)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 2)
    monkeypatch.setattr(search, "MAX_TOTAL", 2)
    body_only = make_article("Note", "Refunds are mentioned in the body only.")
    titled = [make_article(f"Refunds {n}", "How it works.") for n in range(2)]
    # Two title matches do not overflow the bound: the body match is a candidate.
    found = search_articles(None, "refund", limit=10)
    assert {hit.article.pk for hit in found.hits} == {body_only.pk, *(a.pk for a in titled)}
    assert found.total == 3  # three matches: more than MAX_TOTAL (2)
    titled.append(make_article("Refunds 2", "How it works."))
    # Three title matches overflow it: only titles are ranked, the body
    # match is never read, and the total is "more than MAX_TOTAL".
    found = search_articles(None, "refund", limit=10)
    assert body_only.pk not in {hit.article.pk for hit in found.hits}
    assert {hit.article.pk for hit in found.hits} <= {a.pk for a in titled}
    assert found.total == 3


@pytest.mark.parametrize("query", ["pass\x00word", "password\x00", "\x00", "password \ud800"])
def test_text_postgresql_cannot_take_is_no_error(make_article, query):
    """A NUL (a URL's %00) or a lone surrogate in the query: a word break or
    U+FFFD, never an error; the search log stores what it can."""
    article = make_article("Reset your password", "Choose Forgot password.")
    results = search_articles(None, query, record=True, semantic=False)
    if "password" in query:
        assert [hit.article.pk for hit in results.hits] == [article.pk]
    assert SearchTerm.objects.exists() or not query.strip("\x00 ")
    assert not [t for t in SearchTerm.objects.values_list("term", flat=True) if "\x00" in t]


@pytest.fixture
def real_semantic(monkeypatch, settings):
    """The real embeddings (the bundled model), fused by search_articles."""
    from knowledge_base import embeddings
    from knowledge_base.embeddings import index

    if not embeddings.enabled():
        pytest.skip("semantic search is off (no model folder)")
    settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = 0
    monkeypatch.setattr(search, "_semantic_enabled", embeddings.enabled)
    index.forget()
    yield embeddings
    index.forget()


def test_a_paraphrase_finds_the_article_through_the_real_semantic_path(
    corpus, make_article, real_semantic, customer
):
    internal = make_article(
        "Unlock a customer's account",
        "Staff: clear the lock under Admin, People.",
        visibility=Visibility.INTERNAL,
    )
    real_semantic.embed_articles([a.pk for a in [*corpus.values(), internal]])
    # No word of these is in the article: full text finds nothing.
    for query in ("I cannot log on to my profile", "locked out"):
        assert search_articles(None, query, semantic=False).total == 0
        for user in (None, customer):
            results = search_articles(user, query)
            assert titles(results)[0] == "Reset your password", (query, user)
            assert "Unlock a customer's account" not in titles(results)
            assert results.total == len(results.hits)
    assert titles(search_articles(None, "where are my bills"))[0] == "Download an invoice"


def test_ranking_plans_without_sequential_scans_and_resets_the_setting(make_article, customer):
    # A common word's candidates come from the GIN index, not a read of the
    # table in order (each row's vector is out of line); the setting must
    # not outlive the search.
    make_article("Delivery times", "Delivery by courier.")
    with CaptureQueriesContext(connection) as captured:
        assert search_articles(customer, "delivery").total == 1
    statements = [q["sql"] for q in captured.captured_queries]
    on, off = statements.index("SET enable_seqscan = off"), statements.index("RESET enable_seqscan")
    assert any("ts_rank_cd" in sql for sql in statements[on:off])
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"
