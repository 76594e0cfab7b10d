"""Knowledge-base relevance on public data: does search find the article that
answers a customer's message?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python bench/kb_relevance.py
        [--queries 2000] [--seed 0] [--split test|dev] [--responses 8]

The Bitext customer-support set (../shared/data/bitext, CDLA-Sharing-1.0; read
from there, never copied): one published article per intent (27), its title
the intent's name in words ("cancel_order" -> "Cancel order"), its body
--responses of that intent's agent answers (a fixed random choice); the
customers' `instruction` messages, which no article is built from, are the
queries: a fixed random sample of --queries of them (--seed; printed).
--split dev draws the sample from the other messages, to tune on without
looking at the reported figures.

Measured in the same run, over the same articles and queries: hit@1, hit@5
and mean reciprocal rank (of the right article among all 27; 0 when absent)
for
- search_articles full text only (semantic=False), match="all" (the search
  box and the API) and match="any" (long text, the portal's suggestions);
- hybrid (semantic=True: full text fused with the sentence embeddings), when
  semantic search is enabled (HELPDESK_KB_EMBEDDING_MODEL);
- the portal's suggestion provider (knowledge_base.suggestions.provider, as
  the new-request form calls it, top 5 only: its MRR counts ranks 1-5);
- a TF-IDF cosine baseline (scikit-learn, default TfidfVectorizer over
  title + body), the reference figure of ../shared/data/README.md.

The articles live in a throwaway PostgreSQL database (created next to the one
of DATABASE_URL, named kb_relevance_bench, kb_relevance_bench_dev for the dev
split, dropped at the end), made through the services as an editor would.
Exit code 0 with a message when the data set is missing.
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitext"
CSV = DATA / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "kb-relevance-bench")

BENCH_DB = "kb_relevance_bench"
# Ranks are counted to this depth (a search page's length): MRR@10, hit@5.
DEPTH = 10
# The dev split's sample is drawn with this seed from the messages the
# reported sample does not hold.
DEV_SEED_OFFSET = 1000


def load(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Intent -> [(instruction, response)] in file order."""
    by_intent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["intent"]].append((row["instruction"].strip(), row["response"].strip()))
    return by_intent


def title_of(intent: str) -> str:
    return intent.replace("_", " ").capitalize()


def build_corpus(by_intent, responses: int, seed: int):
    """(articles [(intent, title, body)], queries [(text, intent)] for every
    message) with a fixed choice of responses per intent."""
    rng = random.Random(seed)
    articles, queries = [], []
    for intent in sorted(by_intent):
        rows = by_intent[intent]
        chosen = rng.sample(range(len(rows)), min(responses or len(rows), len(rows)))
        body = "\n\n".join(rows[i][1] for i in sorted(chosen))
        articles.append((intent, title_of(intent), body))
        queries.extend((instruction, intent) for instruction, _ in rows if instruction)
    return articles, queries


def sample(queries, n: int, seed: int, split: str):
    """The reported sample (seed) or, for split=dev, a sample of the rest."""
    order = list(range(len(queries)))
    random.Random(seed).shuffle(order)
    if split == "test":
        picked = order[:n]
    else:
        rest = order[n:]
        random.Random(seed + DEV_SEED_OFFSET).shuffle(rest)
        picked = rest[:n]
    return [queries[i] for i in picked]


def scores(ranks: list[int]) -> dict[str, float]:
    """ranks: 1-based rank of the right article, 0 when absent."""
    n = len(ranks)
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@5": sum(1 <= r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


def rank_of(ids: list, wanted) -> int:
    ids = ids[:DEPTH]
    return ids.index(wanted) + 1 if wanted in ids else 0


def tfidf_ranks(articles, queries, **options) -> list[int]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vectorizer = TfidfVectorizer(**options)
    docs = vectorizer.fit_transform([f"{title}\n{body}" for _, title, body in articles])
    similarity = linear_kernel(vectorizer.transform([q for q, _ in queries]), docs)
    intents = [intent for intent, _, _ in articles]
    ranks = []
    for row, (_, intent) in zip(similarity, queries, strict=True):
        order = sorted(range(len(intents)), key=lambda i: -row[i])
        ranks.append(rank_of([intents[i] for i in order], intent))
    return ranks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", choices=["test", "dev"], default="test")
    parser.add_argument(
        "--responses", type=int, default=0, help="agent answers per article (0: all of them)"
    )
    parser.add_argument(
        "--only", default="", help="measure only the systems whose name holds this text"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    parser.add_argument(
        "--semantic-weights",
        default="",
        help="tuning: also measure the hybrid search with these weights of the semantic "
        "list in the fusion (comma-separated, e.g. 2,3,4; use with --split dev)",
    )
    args = parser.parse_args()

    if not CSV.is_file():
        print(f"SKIP: the Bitext data set is not at {CSV} (see ../shared/data/README.md).")
        return 0
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("SKIP: set DATABASE_URL to a PostgreSQL server (the bench makes its own database).")
        return 0

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # Its own database per split: a tuning run and a reported run can overlap.
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        BENCH_DB if args.split == "test" else f"{BENCH_DB}_{args.split}"
    )
    by_intent = load(CSV)
    articles, all_queries = build_corpus(by_intent, args.responses, args.seed)
    queries = sample(all_queries, args.queries, args.seed, args.split)
    print(
        f"Bitext: {len(articles)} articles ({args.responses or 'all'} answers each), "
        f"{len(all_queries)} messages; {len(queries)} queries, split={args.split}, "
        f"seed={args.seed}"
    )

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return run(articles, queries, args)
    finally:
        if not args.keep_db:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def run(articles, queries, args) -> int:
    from django.contrib.auth.models import AnonymousUser

    from knowledge_base import embeddings, search, services
    from knowledge_base.models import Visibility
    from knowledge_base.selectors import visibilities_for
    from tickets.models import Role
    from tickets.services import user_create

    editor = user_create(
        email="bench-editor@example.test", full_name="Bench Editor", role=Role.MANAGER
    )
    started = time.perf_counter()
    id_of_intent = {}
    for intent, title, body in articles:
        version = services.article_save(
            actor=editor, title=title, body=body, visibility=Visibility.PUBLIC
        )
        article = services.article_publish(article=version.article, actor=editor)
        id_of_intent[intent] = article.pk
    print(f"{len(articles)} articles published in {time.perf_counter() - started:.1f} s")
    semantic_on = embeddings.enabled()
    if semantic_on:
        started = time.perf_counter()
        embeddings.embed_articles(list(id_of_intent.values()))
        print(f"embedded with {embeddings.model_label()} in {time.perf_counter() - started:.1f} s")

    anonymous = AnonymousUser()
    depth = DEPTH
    systems: dict[str, list[int]] = {}

    def measure(name, fn):
        if args.only not in name:
            return
        started = time.perf_counter()
        ranks = [rank_of(fn(text), id_of_intent[intent]) for text, intent in queries]
        elapsed = (time.perf_counter() - started) / len(queries) * 1000
        systems[name] = ranks
        timings[name] = elapsed
        print(f"  measured {name}: {scores(ranks)} ({elapsed:.1f} ms/query)", flush=True)

    timings: dict[str, float] = {}
    if semantic_on:
        # Each query's semantic list is computed once (timed here) and reused
        # by the hybrid runs and the suggestions: their ms/query leave it out.
        original_semantic_rank = embeddings.semantic_rank
        semantic_rank = functools.lru_cache(maxsize=None)(
            lambda text, visibilities, limit: original_semantic_rank(
                text, visibilities=visibilities, limit=limit
            )
        )
        measure(
            "semantic only (embeddings)",
            lambda text: [
                i
                for i, _ in semantic_rank(text, tuple(visibilities_for(None)), search.FUSION_DEPTH)
            ],
        )
        embeddings.semantic_rank = lambda text, *, visibilities, limit: semantic_rank(
            text, tuple(visibilities), limit
        )
    for match in ("all", "any"):
        measure(
            f"full text, match={match}",
            lambda text, match=match: [
                h.article.pk
                for h in search.search_articles(
                    anonymous, text, limit=depth, semantic=False, match=match
                ).hits
            ],
        )
    if semantic_on:
        for match in ("all", "any"):
            measure(
                f"hybrid, match={match}",
                lambda text, match=match: [
                    h.article.pk
                    for h in search.search_articles(
                        anonymous, text, limit=depth, semantic=True, match=match
                    ).hits
                ],
            )
        default_weight = search.SEMANTIC_WEIGHT
        for weight in [float(w) for w in args.semantic_weights.split(",") if w.strip()]:
            search.SEMANTIC_WEIGHT = weight
            for match in ("all", "any"):
                measure(
                    f"hybrid, match={match}, semantic weight {weight:g}",
                    lambda text, match=match: [
                        h.article.pk
                        for h in search.search_articles(
                            anonymous, text, limit=depth, semantic=True, match=match
                        ).hits
                    ],
                )
        search.SEMANTIC_WEIGHT = default_weight
    else:
        print("Semantic search is off (HELPDESK_KB_EMBEDDING_MODEL): no hybrid figures.")
    try:
        from knowledge_base import suggestions
    except ImportError:
        suggestions = None
    if suggestions is not None:
        from knowledge_base.suggestions import article_id_of

        measure(
            "portal suggestions (top 5)",
            lambda text: [article_id_of(s.ref) for s in suggestions.provider(text, anonymous)],
        )
    if semantic_on:
        embeddings.semantic_rank = original_semantic_rank
    for name, options in (
        ("TF-IDF cosine (scikit-learn defaults)", {}),
        ("TF-IDF cosine, sublinear tf", {"sublinear_tf": True}),
    ):
        started = time.perf_counter()
        systems[name] = tfidf_ranks(articles, queries, **options)
        timings[name] = (time.perf_counter() - started) / len(queries) * 1000

    print()
    print("| system | hit@1 | hit@5 | MRR | ms/query |")
    print("| --- | --- | --- | --- | --- |")
    for name, ranks in systems.items():
        s = scores(ranks)
        print(
            f"| {name} | {s['hit@1']:.3f} | {s['hit@5']:.3f} | {s['mrr']:.3f} "
            f"| {timings[name]:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
