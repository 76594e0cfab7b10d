"""Article Markdown to safe HTML.

markdown-it-py parses CommonMark with tables and strikethrough; raw HTML in
the Markdown is not passed through (html=False: it shows as text), and nh3
(Rust's ammonia) then keeps only the tags and attributes an article needs —
headings, lists, links, images, code blocks, tables, quotes — with http(s),
mailto and relative URLs only, so no script, no event handler and no
`javascript:` link survives whatever an editor (or an import) writes.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
    "ul", "ol", "li", "strong", "em", "del", "s", "code", "pre", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """The article body as HTML that is safe to show as it is."""
    html = _parser.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        # Table alignment comes as style="text-align: ..."; nothing else.
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(text: str) -> str:
    """The words of the Markdown, without its markup, on one line (for search,
    embeddings and snippets)."""
    return " ".join(html.unescape(nh3.clean(_parser.render(text or ""), tags=set())).split())
