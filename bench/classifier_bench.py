"""Ticket classifier benchmark on public data (no database, no Django).

    python bench/classifier_bench.py [--repeat-latency N]

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat-latency", type=int, default=3, help="Passes over the test texts when timing."
    )
    args = parser.parse_args()
    if not (DATA_DIR / "banking77" / "train.csv").exists():
        print(f"Skipped: the shared data folder {DATA_DIR} is missing (see shared/data/README.md).")
        return 0
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "scikit_learn": sklearn.__version__,
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
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
