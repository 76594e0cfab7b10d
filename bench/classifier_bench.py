"""Ticket classifier benchmark: public data (no database), and the retraining
on a helpdesk's own tickets.

    python bench/classifier_bench.py [--repeat-latency N]
    DATABASE_URL=postgres://... python bench/classifier_bench.py --tickets [--max-rows N]

1. BANKING77 (../shared/data/banking77): train on train.csv, report accuracy
   and macro-F1 on test.csv for the shipped model (tickets.classification.model)
   and for a plain TF-IDF + LinearSVC reference; training time; single-ticket
   inference time (p50 / p95 / max over the test texts, one text per call, as
   intake predicts); how well the confidence is calibrated and what share of
   tickets the default threshold (0.6) lets through, with their accuracy.
2. Bitext (../shared/data/bitext): a stratified 80/20 split (seed 0) of the
   customer messages, macro-F1 for the 27 intents and the 11 categories.

Prints the figures and writes bench/results/classifier.json. Skips with a
message (exit code 0) when ../shared/data is missing.

With --tickets: what the daily retraining job does on the database of
DATABASE_URL (a seeded demo, bench/seed_demo.sh), timed step by step: choosing
the training rows (tickets.classification.training.ticket_training_data),
fitting, measuring the new and the active version on the held-out tickets,
storing; plus the peak memory of the process. The new version is stored (and
activated if not worse), as the job would. Writes bench/results/classifier_tickets.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import platform
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = ROOT / "bench" / "results" / "classifier.json"
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from tickets.classification.model import Dataset, TextClassifier, train  # noqa: E402
from tickets.classification.sentiment import sentiment_score  # noqa: E402

THRESHOLD = 0.6


def read_csv(path: Path, text: str, label: str) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [(r[text], r[label]) for r in csv.DictReader(fh) if r[text] and r[label]]
    return [t for t, _ in rows], [label for _, label in rows]


def reference_f1(train_x, train_y, test_x, test_y) -> float:
    """The plain baseline the data README quotes: default TF-IDF + LinearSVC."""
    pipeline = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(train_x, train_y)
    return float(f1_score(test_y, pipeline.predict(test_x), average="macro"))


def ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(seconds, q)) * 1000, 3)


def latency(classifier: TextClassifier, texts: list[str], repeat: int) -> dict:
    for text in texts[:50]:  # warm-up: the fast scorer is built on first use
        classifier.predict_one(text)
    fast = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            classifier.predict_one(text)
            fast.append(time.perf_counter() - started)
    # What intake computes without the database: category and tone.
    with_tone = []
    sentiment_score("warm-up")
    for text in texts:
        started = time.perf_counter()
        classifier.predict_one(text)
        sentiment_score(text)
        with_tone.append(time.perf_counter() - started)
    # For comparison: one text through scikit-learn's pipeline API.
    slow = []
    for text in texts[:500]:
        started = time.perf_counter()
        classifier.probabilities([text])
        slow.append(time.perf_counter() - started)
    return {
        "p50_ms": ms(fast, 50),
        "p95_ms": ms(fast, 95),
        "p99_ms": ms(fast, 99),
        "max_ms": ms(fast, 100),
        "calls": len(fast),
        "with_sentiment_p50_ms": ms(with_tone, 50),
        "with_sentiment_p95_ms": ms(with_tone, 95),
        "sklearn_pipeline_p50_ms": ms(slow, 50),
        "sklearn_pipeline_p95_ms": ms(slow, 95),
    }


def calibration(classifier: TextClassifier, texts: list[str], labels: list[str]) -> dict:
    predictions = classifier.predict(texts)
    confidence = np.array([p.confidence for p in predictions])
    correct = np.array([p.label == y for p, y in zip(predictions, labels, strict=True)])
    # Expected calibration error over 10 equal-width confidence bins.
    ece = 0.0
    edges = np.linspace(0, 1, 11)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    sure = confidence >= THRESHOLD
    return {
        "ece": round(float(ece), 4),
        "share_at_or_above_threshold": round(float(sure.mean()), 4),
        "accuracy_at_or_above_threshold": round(float(correct[sure].mean()), 4),
        "accuracy_below_threshold": round(float(correct[~sure].mean()), 4)
        if (~sure).any()
        else None,
        "threshold": THRESHOLD,
    }


def banking77(repeat: int) -> dict:
    folder = DATA_DIR / "banking77"
    train_x, train_y = read_csv(folder / "train.csv", "text", "category")
    test_x, test_y = read_csv(folder / "test.csv", "text", "category")
    print(f"BANKING77: {len(train_x)} train / {len(test_x)} test, {len(set(train_y))} intents")

    started = time.perf_counter()
    model, metrics = train(Dataset(train_x, train_y), eval_data=Dataset(test_x, test_y))
    seconds = time.perf_counter() - started
    reference = reference_f1(train_x, train_y, test_x, test_y)
    artifact = len(zlib.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), 6))
    result = {
        "accuracy": round(metrics.accuracy, 4),
        "macro_f1": round(metrics.macro_f1, 4),
        "reference_tfidf_linearsvc_macro_f1": round(reference, 4),
        "train_seconds": round(seconds, 1),
        "temperature": round(model.category.temperature, 4),
        "artifact_mb": round(artifact / 1e6, 1),
        "latency": latency(model.category, test_x, repeat),
        "calibration": calibration(model.category, test_x, test_y),
    }
    lat, cal = result["latency"], result["calibration"]
    print(
        f"  accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  "
        f"(reference TF-IDF + LinearSVC {reference:.4f})"
    )
    print(
        f"  training {seconds:.1f} s (fit, out-of-fold calibration), artifact "
        f"{result['artifact_mb']} MB compressed"
    )
    print(
        f"  inference per ticket: p50 {lat['p50_ms']} ms  p95 {lat['p95_ms']} ms  "
        f"p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms over {lat['calls']} calls "
        f"(scikit-learn pipeline API: p50 {lat['sklearn_pipeline_p50_ms']} ms)"
    )
    print(
        f"  with sentiment (VADER): p50 {lat['with_sentiment_p50_ms']} ms  "
        f"p95 {lat['with_sentiment_p95_ms']} ms"
    )
    print(
        f"  confidence: ECE {cal['ece']}; {cal['share_at_or_above_threshold']:.1%} of tickets "
        f">= {THRESHOLD} with accuracy {cal['accuracy_at_or_above_threshold']:.1%}, "
        f"the rest ({cal['accuracy_below_threshold']:.1%} right) go to triage"
    )
    return result


def bitext() -> dict:
    path = DATA_DIR / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    texts, intents = read_csv(path, "instruction", "intent")
    _, categories = read_csv(path, "instruction", "category")
    print(f"Bitext: {len(texts)} messages, stratified 80/20 split (seed 0)")
    result = {}
    for name, labels in (("intent", intents), ("category", categories)):
        train_x, test_x, train_y, test_y = train_test_split(
            texts, labels, test_size=0.2, stratify=labels, random_state=0
        )
        _model, metrics = train(Dataset(train_x, train_y), eval_data=Dataset(test_x, test_y))
        reference = reference_f1(train_x, train_y, test_x, test_y)
        result[name] = {
            "classes": len(set(labels)),
            "accuracy": round(metrics.accuracy, 4),
            "macro_f1": round(metrics.macro_f1, 4),
            "reference_tfidf_linearsvc_macro_f1": round(reference, 4),
        }
        print(
            f"  {name} ({len(set(labels))} classes): accuracy {metrics.accuracy:.4f}  "
            f"macro-F1 {metrics.macro_f1:.4f}  (reference {reference:.4f})"
        )
    return result


def tickets_retraining(max_rows: int | None) -> dict:
    """Time the retraining job on DATABASE_URL's tickets."""
    import resource

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    django.setup()
    from django.conf import settings
    from django.db import connection

    from tickets.classification.training import (
        TICKETS_SOURCE,
        classifier_train_on_tickets,
        ticket_training_data,
    )
    from tickets.models import Ticket

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    total = Ticket.objects.count()
    cap = max_rows or settings.HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS
    print(f"Retraining on {total:,} tickets (PostgreSQL {server}), at most {cap:,} rows")
    started = time.perf_counter()
    tickets = ticket_training_data(max_rows=cap)
    selected = time.perf_counter() - started
    print(
        f"  training data: {len(tickets.data):,} rows + {len(tickets.held_out):,} held out "
        f"({tickets.corrections:,} corrections) from {tickets.scanned:,} resolved tickets "
        f"looked at, {selected:.1f} s"
    )
    result = classifier_train_on_tickets(
        tickets, source=f"{TICKETS_SOURCE} (bench {tickets.fingerprint})", activate=None
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m, baseline = result.metrics, result.baseline
    print(
        f"  fit + measure + store: {result.seconds:.1f} s; whole job {seconds:.1f} s; "
        f"peak memory {peak_mb:,.0f} MB"
    )
    print(
        f"  v{result.row.version}: accuracy {m.accuracy:.4f}  macro-F1 {m.macro_f1:.4f} on "
        f"{m.eval_samples:,} held-out tickets"
        + (f"; active v{baseline.version} on the same: {baseline.macro_f1:.4f}" if baseline else "")
        + ("; activated" if result.activated else "; not activated")
    )
    return {
        "tickets_in_database": total,
        "max_rows": cap,
        "training_rows": len(tickets.data),
        "held_out_rows": len(tickets.held_out),
        "corrections": tickets.corrections,
        "scanned": tickets.scanned,
        "select_seconds": round(selected, 1),
        "train_measure_store_seconds": round(result.seconds, 1),
        "total_seconds": round(seconds, 1),
        "peak_memory_mb": round(peak_mb),
        "accuracy": round(m.accuracy, 4),
        "macro_f1": round(m.macro_f1, 4),
        "baseline_macro_f1": round(baseline.macro_f1, 4) if baseline else None,
        "activated": result.activated,
    }


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat-latency", type=int, default=3, help="Passes over the test texts when timing."
    )
    parser.add_argument(
        "--tickets",
        action="store_true",
        help="Time the retraining on the tickets of DATABASE_URL instead.",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        help="With --tickets: the cap on training rows "
        "(default HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS).",
    )
    args = parser.parse_args()
    if args.tickets:
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "retraining": tickets_retraining(args.max_rows),
        }
        path = RESULTS.with_name("classifier_tickets.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"Wrote {path.relative_to(ROOT)}")
        return 0
    if not (DATA_DIR / "banking77" / "train.csv").exists():
        print(f"Skipped: the shared data folder {DATA_DIR} is missing (see shared/data/README.md).")
        return 0
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "banking77": banking77(args.repeat_latency),
    }
    if (DATA_DIR / "bitext").exists():
        results["bitext"] = bitext()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"Wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
