"""python manage.py import_articles FILE [--format csv|json|markdown] [--as EMAIL]
[--report FILE] [--batch-size N]

Exit status: 0 when every row was imported, 1 when some rows were rejected
(the others were imported; each rejected row is listed with its reason), 2
when the file cannot be imported at all (nothing was written). The work is in
knowledge_base/importing.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from knowledge_base import import_files, importing

# The exit status when some rows were rejected and when nothing could be imported.
EXIT_REJECTED_ROWS = 1
EXIT_UNUSABLE_FILE = 2


class Command(BaseCommand):
    help = (
        "Import knowledge-base articles from a CSV file, a JSON list or a folder of Markdown "
        "files with YAML front matter. Rows are published unless their status says otherwise; "
        "an article is found again by its slug, so running it again updates instead of "
        "duplicating. Exit status 1 when rows were rejected, 2 when the file is unusable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", type=Path, help="A .csv or .json file, or a folder of .md files."
        )
        parser.add_argument(
            "--format",
            choices=import_files.FORMATS,
            help="The file's format when its name does not say it.",
        )
        parser.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            default="",
            help="Import as this editor (the versions and history name them; publishing rows "
            "needs the approve permission). Without it the import is recorded as done by the "
            "system, with no person named.",
        )
        parser.add_argument(
            "--report",
            type=Path,
            metavar="CSV",
            help="Also write the rejected rows (where, field, message) to this CSV file.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=64,
            help="Articles per batch when computing their embeddings for semantic search.",
        )

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        show_progress = options["verbosity"] > 0
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.", returncode=EXIT_UNUSABLE_FILE)
        try:
            actor = importing.resolve_actor(options["as_email"]) if options["as_email"] else None
            source = import_files.open_source(options["file"], options["format"])
        except import_files.ImportFileError as exc:
            raise CommandError(str(exc), returncode=EXIT_UNUSABLE_FILE) from exc
        if source.ignored:
            self.stderr.write(
                f"Ignoring the columns {', '.join(source.ignored)} (not article fields)."
            )

        with tqdm(
            total=source.total, unit=" rows", file=sys.stderr, disable=not show_progress
        ) as bar:
            tally = importing.run_import(source, actor=actor, progress=bar.update)
        embedded = importing.embed_imported(
            tally, batch_size=options["batch_size"], progress=show_progress
        )

        counts = ", ".join(f"{n} {what}" for what, n in tally.counts.items())
        self.stdout.write(
            f"{tally.rows} rows from {options['file']}: {counts}, {len(tally.rejected)} rejected "
            f"({time.monotonic() - started:.1f} s)."
        )
        if embedded is None:
            self.stdout.write("Semantic search is off: no embeddings computed (full-text only).")
        else:
            self.stdout.write(f"Embeddings computed for {embedded} articles.")
        for warning in tally.warnings:
            self.stderr.write(f"  {warning.where}: {warning.field}: {warning.message}")
        if options["report"]:
            importing.write_report(tally.rejected, options["report"])
        if tally.rejected:
            for rejection in tally.rejected:
                where = (
                    f"{rejection.where}: {rejection.field}" if rejection.field else rejection.where
                )
                self.stderr.write(f"  {where}: {rejection.message}")
            others = (
                "the others were imported" if tally.rows > len(tally.rejected) else "none imported"
            )
            raise CommandError(
                f"{len(tally.rejected)} of {tally.rows} rows were rejected (listed above); "
                f"{others}.",
                returncode=EXIT_REJECTED_ROWS,
            )
