"""Celery tasks of semantic search, registered under knowledge_base.tasks
(which re-exports them; here so that services can queue them without an
import cycle)."""

from __future__ import annotations

from celery import shared_task

from knowledge_base import embeddings

# Articles the embedding sweep encodes per run (about 20 ms each on two cores).
EMBED_SWEEP_BATCH = 200


@shared_task(name="knowledge_base.tasks.embed_article", acks_late=True)
def embed_article(article_id: int) -> int:
    """Store the sentence embedding of an article that just went live.
    Queued on commit by knowledge_base.services._make_live; nothing to do
    when its vector is up to date already (an import embeds in the command)."""
    if not embeddings.enabled():
        return 0
    if not embeddings.stale_articles().filter(pk=article_id).exists():
        return 0
    return embeddings.embed_articles([article_id])


@shared_task(name="knowledge_base.tasks.embed_stale_articles", acks_late=True)
def embed_stale_articles() -> int:
    """Beat: embed live articles whose vector is missing or stale (another
    model, or an older version of the article), at most EMBED_SWEEP_BATCH a
    run. Catches what embed_article missed (a broker that was down, a model
    changed); a large backlog is the `embed_articles` command's job."""
    if not embeddings.enabled():
        return 0
    ids = list(
        embeddings.stale_articles().order_by("id").values_list("id", flat=True)[:EMBED_SWEEP_BATCH]
    )
    return embeddings.embed_articles(ids)
