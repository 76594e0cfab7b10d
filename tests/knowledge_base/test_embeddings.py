"""Semantic retrieval (knowledge_base/embeddings): the numpy encoder, the
stored vectors, the in-process matrix and its visibility filter."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base import embeddings
from knowledge_base.embeddings import index
from knowledge_base.models import Visibility


@pytest.fixture(autouse=True)
def _fresh_index(settings):
    settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = 0
    index.forget()
    yield
    index.forget()


def test_encode_unit_vectors():
    vectors = embeddings.encode(["Reset your password", "", "x " * 2000])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrase_finds_password_reset(make_article):
    reset = make_article("Reset your password", "Click *Forgot password* on the sign-in page.")
    others = [
        make_article("Download your invoices", "Invoices are under Billing as PDF files."),
        make_article("Import data from a CSV file", "Upload the file under Settings, Import."),
        make_article("Speed up slow reports", "Narrow the date range of the report."),
    ]
    embeddings.embed_articles([reset.pk, *(a.pk for a in others)])
    ranked = embeddings.semantic_rank(
        "can't get into my account", visibilities=[Visibility.PUBLIC], limit=10
    )
    assert ranked[0][0] == reset.pk, ranked
