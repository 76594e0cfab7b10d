"""Demo fixtures: seed_demo embeds the help centre's articles when semantic
search is on, which costs seconds per seed; the demo tests seed often, so it
is off for them unless a test asks for `demo_embeddings`."""

import pytest


@pytest.fixture
def demo_embeddings():
    """Seed with semantic search on (the installed model, as `make run` does)."""


@pytest.fixture(autouse=True)
def _demo_without_embeddings(request, settings):
    if "demo_embeddings" not in request.fixturenames:
        settings.HELPDESK_KB_EMBEDDING_MODEL = ""
