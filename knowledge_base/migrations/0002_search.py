"""Search of the help centre, on PostgreSQL only (knowledge_base/search.py).

- `search_vector`: a stored generated tsvector column (english stemming;
  title weight A, summary and tags B, body C) with a GIN index. PostgreSQL
  keeps it current on every write of those fields, so no service has to.
- A trigram index on the title (pg_trgm) for titles close to a misspelt
  query.
- `knowledge_base_searchword`: every word (3+ letters, lower case) that an
  article's text has held, with a trigram index, to correct a misspelt word
  to a real one. A trigger adds the words of each inserted or changed
  article; words are never removed (a word no article holds any more finds
  nothing, which costs only that). The table is read only to rewrite the
  query, whose results are filtered by visibility like any other: the words
  themselves are never shown.

None of this is a model field or model: SQLite (the demo) has no tsvector nor
pg_trgm, and search falls back to substring matching there.
"""

from django.db import migrations

_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
    ALTER TABLE knowledge_base_article ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig,
                              coalesce(summary, '') || ' ' || coalesce(tag_names, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, left(coalesce(body, ''), 200000)), 'C')
    ) STORED
    """,
    "CREATE INDEX IF NOT EXISTS kb_article_search_gin ON knowledge_base_article "
    "USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS kb_article_title_trgm ON knowledge_base_article "
    "USING gin (lower(title) gin_trgm_ops)",
    "CREATE TABLE IF NOT EXISTS knowledge_base_searchword (word varchar(60) PRIMARY KEY)",
    "CREATE INDEX IF NOT EXISTS kb_searchword_trgm ON knowledge_base_searchword "
    "USING gin (word gin_trgm_ops)",
    """
    CREATE OR REPLACE FUNCTION knowledge_base_searchword_add() RETURNS trigger AS $$
    BEGIN
        INSERT INTO knowledge_base_searchword (word)
        SELECT DISTINCT lower(m[1])
        FROM regexp_matches(
            coalesce(NEW.title, '') || ' ' || coalesce(NEW.summary, '') || ' ' ||
            coalesce(NEW.tag_names, '') || ' ' || left(coalesce(NEW.body, ''), 200000),
            '([[:alpha:]]{3,60})', 'g') AS m
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS kb_searchword_insert ON knowledge_base_article",
    """
    CREATE TRIGGER kb_searchword_insert AFTER INSERT ON knowledge_base_article
    FOR EACH ROW EXECUTE FUNCTION knowledge_base_searchword_add()
    """,
    "DROP TRIGGER IF EXISTS kb_searchword_update ON knowledge_base_article",
    """
    CREATE TRIGGER kb_searchword_update AFTER UPDATE OF title, summary, tag_names, body
    ON knowledge_base_article FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary
          OR OLD.tag_names IS DISTINCT FROM NEW.tag_names OR OLD.body IS DISTINCT FROM NEW.body)
    EXECUTE FUNCTION knowledge_base_searchword_add()
    """,
    # Articles written before this migration.
    """
    INSERT INTO knowledge_base_searchword (word)
    SELECT DISTINCT lower(m[1])
    FROM knowledge_base_article a,
         regexp_matches(a.title || ' ' || a.summary || ' ' || a.tag_names || ' ' ||
                        left(a.body, 200000), '([[:alpha:]]{3,60})', 'g') AS m
    ON CONFLICT DO NOTHING
    """,
]

_BACKWARD = [
    "DROP TRIGGER IF EXISTS kb_searchword_update ON knowledge_base_article",
    "DROP TRIGGER IF EXISTS kb_searchword_insert ON knowledge_base_article",
    "DROP FUNCTION IF EXISTS knowledge_base_searchword_add()",
    "DROP TABLE IF EXISTS knowledge_base_searchword",
    "DROP INDEX IF EXISTS kb_article_title_trgm",
    "DROP INDEX IF EXISTS kb_article_search_gin",
    "ALTER TABLE knowledge_base_article DROP COLUMN IF EXISTS search_vector",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in _FORWARD:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in _BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("knowledge_base", "0001_articles")]

    operations = [migrations.RunPython(forwards, backwards)]
