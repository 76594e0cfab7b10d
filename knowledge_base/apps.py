from django.apps import AppConfig


class KnowledgeBaseConfig(AppConfig):
    """Self-service articles, search and suggestions (models arrive with the
    knowledge-base issue)."""

    name = "knowledge_base"
    verbose_name = "Knowledge base"
