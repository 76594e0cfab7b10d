"""Article Markdown renders what articles need and nothing that runs."""

import re

import pytest

from knowledge_base.markdown import plain_text, render_markdown


def test_renders_headings_lists_code_tables_images_and_links():
    html = render_markdown(
        "## Reset it\n\n1. Open **Settings**\n2. Click *Reset*\n\n"
        "```\ncurl https://api.example.com\n```\n\n"
        "| Plan | Price |\n| :--- | ---: |\n| Pro | 10 |\n\n"
        "![Screen](https://example.com/a.png) [Docs](https://example.com/docs) ~~old~~"
    )
    for fragment in [
        "<h2>Reset it</h2>",
        "<ol>",
        "<strong>Settings</strong>",
        "<pre><code>curl https://api.example.com",
        "<table>",
        '<td style="text-align:right">10</td>',
        '<img src="https://example.com/a.png" alt="Screen">',
        '<a href="https://example.com/docs" rel="noopener noreferrer nofollow">Docs</a>',
        "<s>old</s>",
    ]:
        assert fragment in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "Hi <img src=x onerror=alert(1)>",
        '<a href="#" onclick="alert(1)">x</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<iframe src=https://evil.example></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_nothing_runs(markdown):
    html = render_markdown(markdown)
    tags = re.findall(r"<(\w+)([^>]*)>", html)
    assert {name for name, _ in tags} <= {"p", "a", "img"}
    for _, attributes in tags:
        assert not re.search(r"\son\w+\s*=", attributes, re.I)
        for url in re.findall(r'(?:href|src)="([^"]*)"', attributes):
            assert not re.match(r"\s*(javascript|vbscript|data):", url, re.I), url


def test_raw_html_shows_as_text():
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_plain_text_keeps_the_words_only():
    assert plain_text("## Reset\n\n* **one** [two](https://x.example)\n\n`three` &amp;") == (
        "Reset one two three &"
    )
