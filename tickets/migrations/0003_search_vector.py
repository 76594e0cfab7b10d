"""Full-text search column and its GIN index, on PostgreSQL only.

The column is not a model field: SQLite (the demo) has no tsvector, and only
tickets/search.py reads or writes it. Existing rows are indexed by
`manage.py rebuild_search_index` (seed_demo runs it for the data it makes).
"""

from django.db import migrations


def add_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE tickets_ticket ADD COLUMN IF NOT EXISTS search_vector tsvector"
    )
    # Serves tickets.search.search_tickets (search_vector @@ query).
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS ticket_search_gin ON tickets_ticket USING gin (search_vector)"
    )


def drop_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS ticket_search_gin")
    schema_editor.execute("ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_workspace")]

    operations = [migrations.RunPython(add_search_vector, drop_search_vector)]
