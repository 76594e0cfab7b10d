"""The title's own full-text index (PostgreSQL only): search finds the
articles whose title matches through it, without reading every matching
article's whole vector (knowledge_base/search.py, _rank_candidates)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS kb_article_title_fts ON knowledge_base_article "
        "USING gin (to_tsvector('english'::regconfig, title))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS kb_article_title_fts")


class Migration(migrations.Migration):
    dependencies = [("knowledge_base", "0002_search")]

    operations = [migrations.RunPython(forwards, backwards)]
