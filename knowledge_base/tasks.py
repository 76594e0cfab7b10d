"""Celery tasks of the knowledge base: thin wrappers that call a service."""

from celery import shared_task

from knowledge_base import services
from knowledge_base.embeddings.tasks import (  # noqa: F401  (registers the tasks)
    embed_article,
    embed_stale_articles,
)


@shared_task(acks_late=True)
def publish_due_articles() -> int:
    """Publish the articles a reviewer approved for a time that has come."""
    return services.publish_due()


@shared_task(acks_late=True)
def flush_article_views() -> int:
    """Add the page views counted in Redis to the articles."""
    return services.flush_views()
