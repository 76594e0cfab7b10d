"""Compute the sentence embeddings of the live articles (semantic search):
`manage.py embed_articles` embeds those with no vector or a stale one (another
model, an older version); --all embeds every live article again. A progress
bar shows on a terminal. Use it after an import or a change of
HELPDESK_KB_EMBEDDING_MODEL, rather than waiting for the beat sweep."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge_base import embeddings


class Command(BaseCommand):
    help = "Embed the live knowledge-base articles whose vector is missing or stale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="Embed every live article again, stale or not."
        )
        parser.add_argument(
            "--batch-size", type=int, default=32, help="Texts per model batch (default 32)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not embeddings.enabled():
            raise CommandError(
                "Semantic search is off: HELPDESK_KB_EMBEDDING_MODEL is empty or names no "
                "model folder (see the log above)."
            )
        articles = embeddings.live_articles() if options["all"] else embeddings.stale_articles()
        ids = list(articles.order_by("id").values_list("id", flat=True))
        if not ids:
            self.stdout.write("Every live article has an up-to-date embedding.")
            return
        progress = not options["no_progress"]
        started = time.monotonic()
        count = embeddings.embed_articles(
            ids, batch_size=max(1, options["batch_size"]), progress=progress
        )
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Embedded {count} article{'s' if count != 1 else ''} in {seconds:.1f} s "
                f"with {embeddings.model_label()}."
            )
        )
