"""Search indexes for who may see a ticket and for people, on PostgreSQL only.

- ticket_search_scope_gin replaces ticket_search_gin (migration 0003): the
  words of each ticket beside its team, assignee, requester and organisation
  (btree_gin). A search through an agent's or a customer's visibility filter
  then intersects "holds the word" with "is theirs" inside the index, so a
  frequent word that only other teams' tickets hold costs an index scan, not
  a visit to each of its tickets. Searches of the words alone use it as they
  used the old index.
- person_search_gin: a person's name and e-mail address as a text-search
  document, so a requester's name or address finds their tickets
  (tickets.search.PERSON_VECTOR_SQL is this expression; change both together).

Built CONCURRENTLY (so not in a transaction): ticket writes go on while a
large table is indexed. btree_gin ships with PostgreSQL and is a trusted
extension (the database owner may create it).
"""

from django.db import migrations

PERSON_VECTOR_SQL = (
    "to_tsvector('simple'::regconfig, full_name || ' ' || email || ' ' || replace(email, '@', ' '))"
)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search_scope_gin ON tickets_ticket "
        "USING gin (team_id, assignee_id, requester_id, organization_id, search_vector)"
    )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_gin")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS person_search_gin ON tickets_user "
        f"USING gin (({PERSON_VECTOR_SQL}))"
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS person_search_gin")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search_gin ON tickets_ticket "
        "USING gin (search_vector)"
    )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_scope_gin")
    # btree_gin stays: other indexes may use it by now.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0012_organization_adds_senders_by_domain")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, atomic=False)]
