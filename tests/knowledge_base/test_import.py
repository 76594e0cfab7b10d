"""manage.py import_articles: CSV, JSON and Markdown folders; good and rejected
rows, re-import by slug, one transaction per row, the exit status, and the
embeddings computed before the command returns."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from knowledge_base import embeddings, import_files, importing
from knowledge_base.models import (
    Article,
    ArticleStatus,
    ArticleVersion,
    Category,
    Section,
    Visibility,
)
from knowledge_base.selectors import articles_visible_to

HEADER = "title,body,slug,summary,category,section,tags,visibility,status\n"


def write_csv(tmp_path, rows: str, name: str = "articles.csv"):
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(rows).lstrip("\n"), encoding="utf-8")
    return path


def run(path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_articles", str(path), *args, verbosity=0, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_rejecting(path, *args: str) -> tuple[CommandError, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_articles", str(path), *args, verbosity=0, stdout=io.StringIO(), stderr=err
        )
    return caught.value, err.getvalue()


GOOD_CSV = "".join(
    (
        'Reset your password,"Use **Forgot your password?** on the log-in page.",,'
        'How to get back in,Your account,Signing in,"login, Password",public,\n',
        "Invoices for your finance team,Download them from Settings.,invoices,,"
        "Billing,,invoices,customers,published\n",
        "Escalating a login outage,Page the on-call engineer.,,,"
        "Your account,Signing in,,internal,\n",
        "Exporting reports,Not finished yet.,,,Reports,,,public,draft\n",
    )
)


def test_csv_rows_are_published_in_their_categories_sections_and_visibility(db, tmp_path):
    out, _ = run(write_csv(tmp_path, GOOD_CSV))

    assert "4 rows" in out and "4 created" in out and "0 rejected" in out
    reset = Article.objects.get(slug="reset-your-password")
    assert (reset.status, reset.live_version, reset.visibility) == ("published", 1, "public")
    assert reset.summary == "How to get back in"
    assert reset.tag_names == "login, password"
    assert (reset.section.name, reset.section.category.name) == ("Signing in", "Your account")
    assert "<strong>Forgot your password?</strong>" in reset.body_html
    invoices = Article.objects.get(slug="invoices")
    assert invoices.visibility == Visibility.CUSTOMERS
    # A category without a section goes to the category's "General" section.
    assert (invoices.section.category.name, invoices.section.name) == ("Billing", "General")
    assert Article.objects.get(slug="escalating-a-login-outage").visibility == "internal"
    draft = Article.objects.get(slug="exporting-reports")
    assert (draft.status, draft.live_version) == (ArticleStatus.DRAFT, 0)
    # Anonymous visitors see only what is public and published.
    assert set(articles_visible_to(None).values_list("slug", flat=True)) == {"reset-your-password"}
    # Both sections share the one "Your account" category.
    assert Category.objects.filter(name="Your account").count() == 1
    assert Section.objects.filter(name="Signing in").count() == 1


def test_rejected_rows_are_reported_with_their_row_and_reason_and_the_rest_import(db, tmp_path):
    path = write_csv(
        tmp_path,
        """
        Good one,Fine body.,,,,,,,
        ,A body without a title.,,,,,,,
        Secret,Body.,,,,,,secret,
        Odd status,Body.,,,,,,,live
        Another good one,Body.,good-one,,,,,,
        No body,,,,,,,,
        """,
    )

    error, err = run_rejecting(path)

    assert error.returncode == 1
    assert "5 of 6 rows were rejected" in str(error)
    assert "row 3: title: The title is empty." in err
    assert "row 4: visibility: Unknown visibility 'secret'" in err
    assert "row 5: status: Unknown status 'live'" in err
    # Two rows with one slug: the second is refused, naming the first.
    assert "row 6: slug: The slug 'good-one' is already used by row 2." in err
    assert "row 7: body: The body is empty." in err
    assert list(Article.objects.values_list("slug", flat=True)) == ["good-one"]
    assert Article.objects.get().title == "Good one"


def test_the_report_file_lists_the_rejected_rows(db, tmp_path):
    path = write_csv(tmp_path, "Good,Body.,,,,,,,\nBad,Body.,,,,,,everyone,\n")
    report = tmp_path / "rejected.csv"

    run_rejecting(path, "--report", str(report))

    with report.open(newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines == [
        ["where", "field", "message"],
        ["row 3", "visibility", "Unknown visibility 'everyone' (public, customers or internal)."],
    ]


def test_exit_status_is_1_for_rejected_rows_2_for_an_unusable_file_0_otherwise(
    db, tmp_path, capsys, monkeypatch
):
    # manage.py closes the database connections when a command ends: keep the test's.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def exit_status(*argv: str) -> int:
        try:
            execute_from_command_line(["manage.py", "import_articles", "-v", "0", *argv])
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    good = write_csv(tmp_path, "Fine,Body.,,,,,,,\n", name="good.csv")
    bad = write_csv(tmp_path, "Fine,Body.,,,,,,,\nBad,Body.,,,,,,,gone\n", name="bad.csv")
    no_title = tmp_path / "no_title.csv"
    no_title.write_text("name,body\nA,B\n")
    (tmp_path / "notes.txt").write_text("hello")

    assert exit_status(str(good)) == 0
    assert exit_status(str(bad)) == 1
    assert exit_status(str(no_title)) == 2
    assert exit_status(str(tmp_path / "missing.csv")) == 2
    assert exit_status(str(tmp_path / "notes.txt")) == 2
    assert exit_status(str(good), "--as", "nobody@example.test") == 2
    err = capsys.readouterr().err
    assert "The header has no title column" in err
    assert "row 3: status: Unknown status 'gone'" in err
    assert Article.objects.count() == 1


def test_reimport_updates_by_slug_and_leaves_unchanged_rows_alone(db, tmp_path):
    path = write_csv(tmp_path, GOOD_CSV)
    run(path)
    versions = ArticleVersion.objects.count()
    events = sorted(Article.objects.values_list("slug", "version", "live_version"))

    out, _ = run(path)

    assert "4 unchanged" in out
    assert ArticleVersion.objects.count() == versions
    assert sorted(Article.objects.values_list("slug", "version", "live_version")) == events

    changed = GOOD_CSV.replace("on the log-in page.", "on the sign-in page.").replace(
        "Not finished yet.,,,Reports,,,public,draft", "Now finished.,,,Reports,,,public,"
    )
    out, _ = run(write_csv(tmp_path, changed))

    assert "2 updated" in out and "2 unchanged" in out and "0 created" in out
    assert Article.objects.count() == 4
    reset = Article.objects.get(slug="reset-your-password")
    assert (reset.version, reset.live_version) == (2, 2)
    assert "sign-in page" in reset.body_html
    assert list(reset.versions.values_list("note", flat=True)) == ["Imported", "Imported"]
    reports = Article.objects.get(slug="exporting-reports")
    assert (reports.status, reports.live_version, reports.body) == ("published", 2, "Now finished.")


def test_a_draft_row_does_not_take_a_published_article_off_the_help_centre(db, tmp_path):
    run(write_csv(tmp_path, "Reset your password,Old steps.,,,,,,,\n"))
    run(write_csv(tmp_path, "Reset your password,New steps being written.,,,,,,,draft\n"))

    article = Article.objects.get()
    assert (article.version, article.live_version, article.status) == (2, 1, "draft")
    assert article.body == "Old steps."  # visitors still read the published version
    assert articles_visible_to(None).filter(pk=article.pk).exists()


def test_a_renamed_article_is_found_by_its_old_slug(db, tmp_path, manager):
    from knowledge_base import services

    run(write_csv(tmp_path, "Reset your password,Steps.,,,,,,,\n"))
    article = Article.objects.get()
    services.article_save(
        actor=manager, article=article, title="Reset a password", body="Steps.", slug="reset"
    )
    services.article_publish(article=article, actor=manager)

    out, _ = run(write_csv(tmp_path, "Reset your password,Better steps.,,,,,,,\n"))

    assert "1 updated" in out
    article = Article.objects.get()
    assert (article.slug, article.body, article.title) == (
        "reset",
        "Better steps.",
        "Reset your password",
    )


def test_each_row_is_atomic_a_failing_row_leaves_nothing(db, tmp_path):
    long_title = "T" * 201  # refused by the services after the category was made
    path = write_csv(
        tmp_path,
        f"""
        Fine,Body.,,,Billing,,,,
        {long_title},Body.,,,Brand new category,New section,,,
        """,
    )

    error, err = run_rejecting(path)

    assert "row 3: title: The title is longer than 200 characters." in err
    assert not Category.objects.filter(name="Brand new category").exists()
    assert not Section.objects.filter(name="New section").exists()
    assert list(Article.objects.values_list("title", flat=True)) == ["Fine"]


def test_a_failure_inside_the_services_rolls_the_row_back(db, tmp_path, monkeypatch):
    """A row that was created and then refused while publishing leaves no
    article, version or category behind."""
    from knowledge_base import services

    real_publish = services.article_publish

    def publish(*, article, **kwargs):
        if article.title == "Breaks":
            from tickets.errors import DomainError

            raise DomainError("Publishing failed.", field="status")
        return real_publish(article=article, **kwargs)

    monkeypatch.setattr(services, "article_publish", publish)
    path = write_csv(tmp_path, "Works,Body.,,,A,,,,\nBreaks,Body.,,,Only here,,,,\n")

    _, err = run_rejecting(path)

    assert "row 3: status: Publishing failed." in err
    assert list(Article.objects.values_list("title", flat=True)) == ["Works"]
    assert not ArticleVersion.objects.filter(title="Breaks").exists()
    assert not Category.objects.filter(name="Only here").exists()


def test_an_unsafe_body_is_imported_but_sanitised_when_rendered(db, tmp_path):
    body = (
        "Hello <script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) <img src=x onerror=alert(2)>\n\n"
        '<a href="https://example.test" onclick="steal()">docs</a>'
    )
    path = tmp_path / "unsafe.json"
    path.write_text(json.dumps([{"title": "Unsafe", "body": body}]))

    run(path)

    article = Article.objects.get()
    assert article.body == body  # the Markdown is kept as written...
    html = article.body_html.lower()
    # ...and never rendered unsafe: no script element, no javascript: link,
    # no event-handler attribute on any element (raw HTML shows as text).
    assert "<script" not in html
    assert not re.search(r"href=[\"']?\s*javascript", html)
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html)
    assert "hello" in html and "&lt;script&gt;" in html


def test_json_lists_of_objects_with_tag_lists_and_related_articles(db, tmp_path):
    path = tmp_path / "articles.json"
    path.write_text(
        json.dumps(
            [
                {
                    "title": "API keys",
                    "body": "Create one in Settings.",
                    "tags": ["API", "keys"],
                    "category": "Developers",
                    "related": ["rate-limits", "nowhere"],
                },
                "not an object",
                {
                    "title": "Rate limits",
                    "body": "100 requests a minute.",
                    "Visibility": "CUSTOMERS",
                },
                {"title": "Bad tags", "body": "B", "tags": {"a": 1}},
                {"title": "Typed", "body": "B", "notes": "ignored column"},
            ]
        )
    )

    error, err = run_rejecting(path)

    assert error.returncode == 1
    assert "item 2: Expected an object, found a string." in err
    assert "item 4: tags: Must be text, not dict." in err
    assert "Ignoring the columns notes" in err
    assert "item 1: related: No article has the slug 'nowhere'." in err
    keys = Article.objects.get(slug="api-keys")
    assert keys.tag_names == "api, keys"
    limits = Article.objects.get(slug="rate-limits")
    assert limits.visibility == "customers"
    # Related both ways, however the rows are ordered.
    assert list(keys.related.all()) == [limits]
    assert list(limits.related.all()) == [keys]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"title": "x"}', "must hold a list of articles"),
        ("[]", "holds an empty list"),
        ("[{", "is not valid JSON"),
    ],
)
def test_an_unusable_json_file_writes_nothing(db, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)

    error, _ = run_rejecting(path)

    assert error.returncode == 2 and message in str(error)
    assert not Article.objects.exists()


def test_a_markdown_folder_with_front_matter(db, tmp_path):
    folder = tmp_path / "help"
    (folder / "billing").mkdir(parents=True)
    (folder / "billing" / "refunds.md").write_text(
        textwrap.dedent(
            """\
            ---
            title: Refunds within 30 days
            summary: When and how we refund
            category: Billing
            section: Payments
            tags: [refunds, billing]
            visibility: customers
            related: card-declined
            ---
            Write to us within **30 days**.
            """
        )
    )
    # No front matter title: the first heading is the title, the file name the slug.
    (folder / "card-declined.md").write_text("# My card was declined\n\nTry another card.\n")
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody\n")
    (folder / "notes.txt").write_text("not an article")

    error, err = run_rejecting(folder)

    assert "broken.md: front matter: Not valid YAML" in err
    assert "1 of 3 rows were rejected" in str(error)
    refunds = Article.objects.get(slug="refunds")
    assert (refunds.title, refunds.visibility, refunds.tag_names) == (
        "Refunds within 30 days",
        "customers",
        "refunds, billing",
    )
    assert (refunds.section.category.name, refunds.section.name) == ("Billing", "Payments")
    assert "<strong>30 days</strong>" in refunds.body_html
    declined = Article.objects.get(slug="card-declined")
    assert declined.title == "My card was declined"
    assert declined.body == "Try another card."
    assert list(refunds.related.all()) == [declined]


def test_import_as_an_editor_without_the_approve_permission(db, tmp_path, agent, manager):
    path = write_csv(tmp_path, "Published,Body.,,,,,,,\nA draft,Body.,,,,,,,draft\n")

    _, err = run_rejecting(path, "--as", agent.email)

    assert "row 2: Publishing needs a reviewer" in err
    draft = Article.objects.get()
    assert (draft.title, draft.author, draft.versions.get().author) == ("A draft", agent, agent)

    run(path, "--as", manager.email)
    published = Article.objects.get(slug="published")
    assert published.events.get(action="article.published").actor == manager


def test_a_customer_cannot_be_the_importer(db, tmp_path, customer):
    error, _ = run_rejecting(write_csv(tmp_path, "A,B,,,,,,,\n"), "--as", customer.email)
    assert error.returncode == 2 and "may not edit" in str(error)


@pytest.mark.skipif(not embeddings.enabled(), reason="no sentence-embedding model installed")
def test_the_command_embeds_what_it_published_before_it_returns(db, tmp_path, monkeypatch):
    calls = []
    real_embed = embeddings.embed_articles

    def embed(ids, **kwargs):
        calls.append((list(ids), kwargs))
        return real_embed(ids, **kwargs)

    monkeypatch.setattr(embeddings, "embed_articles", embed)
    path = write_csv(tmp_path, GOOD_CSV)

    out, _ = run(path, "--batch-size", "2")

    live = sorted(Article.objects.filter(live_version__gt=0).values_list("pk", flat=True))
    assert len(live) == 3  # the draft has no live version to embed
    assert calls == [(live, {"batch_size": 2, "progress": False})]
    assert "Embeddings computed for 3 articles." in out
    assert not embeddings.stale_articles().exists()
    # Found by meaning as soon as the command has returned.
    reset = Article.objects.get(slug="reset-your-password")
    ranked = embeddings.semantic_rank("I forgot my login credentials", visibilities=["public"])
    assert ranked[0][0] == reset.pk

    # Again, unchanged: every vector is current, nothing to compute.
    calls.clear()
    out, _ = run(path)
    assert calls == [([], {"batch_size": 64, "progress": False})]
    assert "Embeddings computed for 0 articles." in out


def test_no_embeddings_when_semantic_search_is_off(db, tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings, "enabled", lambda: False)

    out, _ = run(write_csv(tmp_path, "A,B,,,,,,,\n"))

    assert "Semantic search is off" in out
    assert Article.objects.get().embedding is None


def test_a_big_csv_field_and_a_byte_order_mark(db, tmp_path):
    body = "word " * 40_000  # 200,000 characters: over csv's default field limit
    path = tmp_path / "bom.csv"
    path.write_text('\ufefftitle,body\nLong,"' + body.strip() + '"\n', encoding="utf-8")
    limit_before = csv.field_size_limit()

    run(path)

    assert len(Article.objects.get().body) == len(body.strip())
    # The process-wide limit is put back (other CSV readers share it).
    assert csv.field_size_limit() == limit_before


def test_parse_row_normalises_and_checks_fields():
    row = importing.parse_row(
        {
            "title": " Hello ",
            "body": "B",
            "visibility": "Internal",
            "status": "REVIEW",
            "tags": "A, a, b",
            "related": "Other Article, hello",
        }  # fmt: skip
    )
    assert (row.slug, row.visibility, row.status, row.tags) == (
        "hello",
        "internal",
        "review",
        ["a", "b"],
    )
    assert row.related == ["other-article"]  # not itself
    with pytest.raises(import_files.RowError) as caught:
        importing.parse_row({"title": "x", "body": "y", "section": "Alone"})
    assert caught.value.field == "section"
