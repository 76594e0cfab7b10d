"""Knowledge-base semantic search benchmark (knowledge_base/embeddings).

    taskset -c 0,1 python bench/kb_embeddings.py                 # the encoder only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_kb_sem \\
        taskset -c 0,1 python bench/kb_embeddings.py --articles 100000

1. The encoder (no database): model load time; one short query at a time
   (what a search does), ms p50/p95; article texts (bitext responses, cut like
   embed_articles cuts them: about 150 word pieces on average) in batches of
   32, ms per text and texts per second. Texts come from
   ../shared/data/bitext (customer messages as queries, agent responses as
   articles); without it, generated sentences. When sentence-transformers is
   importable, the same figures for it, on the same texts (torch on
   --st-threads threads, default 1 like the numpy path's BLAS).
2. With --articles N (a PostgreSQL DATABASE_URL, migrated here; use a bench
   database): N live articles with vectors are made once (random unit vectors
   labelled with the current model: the matrix product does not care what the
   vectors say), then: loading the in-process matrix, its memory, the
   database stamp check, semantic_rank latency p50/p95 (new queries: encode +
   product; repeated queries: cached vector), and the refresh after one
   article is re-embedded (patch from the change log).

Prints the figures and writes bench/results/kb_embeddings.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BITEXT = ROOT.parent / "shared" / "data" / "bitext"
RESULTS = ROOT / "bench" / "results" / "kb_embeddings.json"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import numpy as np  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(pct(ms, 50), 2),
        "p95_ms": round(pct(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "n": len(ms),
    }


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def texts(limit_queries: int, limit_articles: int) -> tuple[list[str], list[str]]:
    files = sorted(BITEXT.glob("*.csv")) if BITEXT.is_dir() else []
    if files:
        queries: list[str] = []
        articles: list[str] = []
        with open(files[0], newline="") as handle:
            for row in csv.DictReader(handle):
                queries.append(row["instruction"])
                articles.append(row["response"])
        rng = random.Random(0)
        rng.shuffle(queries)
        rng.shuffle(articles)
        return list(dict.fromkeys(queries))[:limit_queries], articles[:limit_articles]
    words = "account password invoice billing import export report slow api key sign in".split()
    rng = random.Random(0)
    queries = [" ".join(rng.choices(words, k=8)) for _ in range(limit_queries)]
    articles = [" ".join(rng.choices(words, k=300)) for _ in range(limit_articles)]
    return queries, articles


def bench_encoder(encode, queries: list[str], articles: list[str], label: str) -> dict:
    encode(queries[:4])  # warm up
    single = []
    cpu_started = time.process_time()
    for query in queries:
        started = time.perf_counter()
        encode([query])
        single.append(time.perf_counter() - started)
    query_cpu_ms = (time.process_time() - cpu_started) / len(queries) * 1000
    started, cpu_started = time.perf_counter(), time.process_time()
    encode(articles)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    result = {
        "query_one_at_a_time": {**summary_ms(single), "cpu_ms": round(query_cpu_ms, 2)},
        "articles_batch32": {
            "texts": len(articles),
            "seconds": round(seconds, 2),
            "ms_per_text": round(seconds / len(articles) * 1000, 2),
            "texts_per_second": round(len(articles) / seconds, 1),
            # CPU time of all the process's threads: what the machine's load
            # does not change much.
            "cpu_ms_per_text": round(cpu_seconds / len(articles) * 1000, 2),
        },
    }
    print(f"{label}: one query {result['query_one_at_a_time']}")
    print(f"{label}: articles in batches of 32 {result['articles_batch32']}")
    return result


def encoder_part(args: argparse.Namespace) -> dict:
    from knowledge_base import embeddings
    from knowledge_base.embeddings.minilm import MiniLM

    folder = embeddings.model_folder()
    if folder is None:
        sys.exit("HELPDESK_KB_EMBEDDING_MODEL names no model folder")
    queries, raw_articles = texts(args.queries, args.texts)
    articles = [text[: embeddings.MAX_TEXT_CHARS] for text in raw_articles]
    started = time.perf_counter()
    model = MiniLM(folder)
    load_seconds = time.perf_counter() - started
    lengths = [min(model.token_count(t), model.max_tokens) for t in articles]
    out: dict = {
        "model_folder": str(folder),
        "model_label": embeddings.model_label(),
        "numpy_load_seconds": round(load_seconds, 2),
        "article_tokens_mean": round(statistics.mean(lengths), 1),
        "article_tokens_at_max": sum(n == model.max_tokens for n in lengths),
    }
    print(f"model {out['model_label']} loaded in {load_seconds:.2f} s (numpy)")
    print(f"article texts: {len(articles)}, mean {out['article_tokens_mean']} word pieces")
    out["numpy"] = bench_encoder(
        lambda batch: model.encode(batch, batch_size=32), queries, articles, "numpy"
    )
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers not installed: no comparison")
        return out
    import torch

    # Like for like: torch on as many threads as the numpy path's BLAS (1).
    torch.set_num_threads(args.st_threads)
    out["sentence_transformers_threads"] = args.st_threads
    started = time.perf_counter()
    st = SentenceTransformer(str(folder), device="cpu")
    out["sentence_transformers_load_seconds"] = round(time.perf_counter() - started, 2)
    out["sentence_transformers"] = bench_encoder(
        lambda batch: st.encode(
            batch, batch_size=32, normalize_embeddings=True, show_progress_bar=False
        ),
        queries,
        articles,
        "sentence-transformers",
    )
    return out


def ensure_articles(n: int, label: str) -> int:
    from django.db import connection
    from django.utils import timezone

    from knowledge_base.models import Article, ArticleStatus, Visibility

    have = Article.objects.filter(slug__startswith="bench-sem-").count()
    if have >= n:
        return have
    rng = np.random.default_rng(0)
    visibilities = [Visibility.PUBLIC] * 7 + [Visibility.CUSTOMERS] * 2 + [Visibility.INTERNAL]
    now = timezone.now()
    started = time.perf_counter()
    batch = 2000
    for start in range(have, n, batch):
        count = min(batch, n - start)
        vectors = rng.standard_normal((count, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        Article.objects.bulk_create(
            [
                Article(
                    title=f"Bench article {start + i}",
                    slug=f"bench-sem-{start + i}",
                    body="Synthetic article of the semantic-search benchmark.",
                    visibility=visibilities[(start + i) % len(visibilities)],
                    status=ArticleStatus.PUBLISHED,
                    version=1,
                    live_version=1,
                    published_at=now,
                    updated_at=now,
                    embedding=vectors[i].tobytes(),
                    embedding_model=f"{label}#1",
                )
                for i in range(count)
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_base_article")
    print(f"made {n - have} synthetic articles in {time.perf_counter() - started:.1f} s")
    return n


def index_part(args: argparse.Namespace) -> dict:
    from django.conf import settings
    from django.core.management import call_command

    from knowledge_base import embeddings
    from knowledge_base.embeddings import index

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        sys.exit("--articles needs a PostgreSQL DATABASE_URL (a bench database)")
    call_command("migrate", verbosity=0)
    label = embeddings.model_label()
    total = ensure_articles(args.articles, label)
    out: dict = {"articles": total}

    index.forget()
    before = rss_mb()
    started = time.perf_counter()
    loaded = index.load(label, 384)
    out["full_load_seconds"] = round(time.perf_counter() - started, 2)
    out["matrix_mb"] = round(loaded.nbytes / 2**20, 1)
    out["rss_growth_mb"] = round(rss_mb() - before, 1)
    out["rows"] = loaded.size
    print(
        f"matrix of {loaded.size} vectors: {out['matrix_mb']} MB (RSS +{out['rss_growth_mb']} MB), "
        f"loaded in {out['full_load_seconds']} s"
    )
    index._index = loaded

    stamps = []
    for _ in range(20):
        started = time.perf_counter()
        index._stamp(label)
        stamps.append(time.perf_counter() - started)
    out["stamp_check"] = summary_ms(stamps)
    print(
        f"database stamp check (at most every "
        f"{settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS} s): {out['stamp_check']}"
    )

    queries, _ = texts(args.queries, 0)
    # Measure the query path without the periodic stamp (its cost is above).
    settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = 3600.0
    for name, visibilities in (
        ("public", ["public"]),
        ("staff", ["public", "customers", "internal"]),
    ):
        embeddings._query_vector.cache_clear()
        fresh, cached, product = [], [], []
        for query in queries:
            started = time.perf_counter()
            embeddings.semantic_rank(query, visibilities=visibilities, limit=50)
            fresh.append(time.perf_counter() - started)
        for query in queries:
            started = time.perf_counter()
            embeddings.semantic_rank(query, visibilities=visibilities, limit=50)
            cached.append(time.perf_counter() - started)
        vector = embeddings.encode([queries[0]])[0]
        for _ in range(len(queries)):
            started = time.perf_counter()
            index._index.nearest(vector, visibilities, 50)
            product.append(time.perf_counter() - started)
        out[f"semantic_rank_{name}_new_query"] = summary_ms(fresh)
        out[f"semantic_rank_{name}_repeated_query"] = summary_ms(cached)
        out[f"matrix_product_{name}"] = summary_ms(product)
        print(f"semantic_rank ({name}), new queries: {out[f'semantic_rank_{name}_new_query']}")
        print(f"semantic_rank ({name}), repeated: {out[f'semantic_rank_{name}_repeated_query']}")
        print(f"matrix product + top 50 ({name}): {out[f'matrix_product_{name}']}")

    # One article re-embedded: the others' processes patch their matrix.
    from knowledge_base.models import Article

    some = Article.objects.filter(slug__startswith="bench-sem-").order_by("id").first()
    assert some is not None
    vector = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    Article.objects.filter(pk=some.pk).update(embedding=vector.tobytes())
    index.changed([some.pk])
    settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = 0.0
    started = time.perf_counter()
    index.current(label, 384)
    out["patch_one_article_seconds"] = round(time.perf_counter() - started, 3)
    print(f"refresh after one article re-embedded (patch): {out['patch_one_article_seconds']} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=0, help="live articles (needs PostgreSQL)")
    parser.add_argument("--queries", type=int, default=200, help="queries to time")
    parser.add_argument("--texts", type=int, default=256, help="article texts to encode")
    parser.add_argument("--skip-encoder", action="store_true")
    parser.add_argument(
        "--st-threads", type=int, default=1, help="torch threads for sentence-transformers"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from threadpoolctl import threadpool_info

    results: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "usable_cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": [
            {k: info.get(k) for k in ("internal_api", "num_threads", "architecture")}
            for info in threadpool_info()
        ],
        "load_average": os.getloadavg(),
    }
    print(results)
    if not args.skip_encoder:
        results["encoder"] = encoder_part(args)
    if args.articles:
        results["index"] = index_part(args)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
