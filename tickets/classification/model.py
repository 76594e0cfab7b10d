"""The text model: features, training, evaluation and calibrated prediction.

Features are two TF-IDF blocks side by side: word 1-2-grams (what the customer
talks about) and character 2-5-grams inside word boundaries (robust to typos,
plurals and made-up product words that a word vocabulary misses). A linear SVM
separates the classes; on BANKING77 this beats a word-only TF-IDF + SVM (see
bench/README.md, "Classifier").

An SVM gives scores, not probabilities. The confidence is a softmax of the
scores divided by a temperature fitted on out-of-fold scores (minimum
negative log-likelihood), so "0.9" means right about nine times in ten and
one threshold (HELPDESK_CLASSIFIER_MIN_CONFIDENCE) can send the unsure tickets
to triage. Temperature scaling keeps the SVM's ranking, so the calibrated
model predicts exactly what the SVM predicts.

Single-ticket prediction (intake, `manage.py classify`) goes through
`_FastScorer`, which computes the same numbers as the fitted pipeline without
scikit-learn's per-call input validation: that validation costs ~2 ms for one
short text, the arithmetic ~0.2 ms. A test checks both paths agree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

# Long e-mails (signatures, quoted threads) add little after the first
# paragraphs and would make one prediction cost milliseconds; the subject
# comes first in the text, so it is always kept.
MAX_TEXT_CHARS = 4000

# A label needs a few examples to be learnt and to appear on both sides of a
# stratified split; rarer labels are left out of training (and reported).
MIN_EXAMPLES_PER_LABEL = 5

RANDOM_STATE = 0


class TrainingError(Exception):
    """The data cannot train a model (too little, a single label, bad CSV)."""


def clip(text: str) -> str:
    return (text or "")[:MAX_TEXT_CHARS]


def build_pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        (
                            "words",
                            TfidfVectorizer(
                                ngram_range=(1, 2),
                                sublinear_tf=True,
                                # Keep one-letter tokens: "2 fa", "a/c", "pin 4".
                                token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (not a secret)
                                dtype=np.float64,
                            ),
                        ),
                        (
                            "chars",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=(2, 5),
                                sublinear_tf=True,
                                # n-grams seen once are mostly typos: half the
                                # vocabulary, no loss in accuracy.
                                min_df=2,
                                dtype=np.float64,
                            ),
                        ),
                    ]
                ),
            ),
            # On a BANKING77 validation split (20 % of train.csv) C from 0.5 to 2
            # gives the same macro-F1 (0.896-0.897), 0.25 and 4 a little less: 1
            # sits in the flat middle. max_iter leaves room so small or odd data
            # sets converge instead of warning.
            ("svm", LinearSVC(C=1.0, max_iter=10_000, random_state=RANDOM_STATE)),
        ]
    )


def _score_matrix(raw: np.ndarray) -> np.ndarray:
    """Decision scores as one column per class (a binary SVM returns one column
    for the second class; the first class gets its negation)."""
    if raw.ndim == 1:
        return np.column_stack([-raw, raw])
    return raw


def fit_temperature(scores: np.ndarray, targets: np.ndarray) -> float:
    """The temperature T minimising the log-loss of softmax(scores / T)."""

    def nll(log_t: float) -> float:
        logp = log_softmax(scores / math.exp(log_t), axis=1)
        return float(-logp[np.arange(len(targets)), targets].mean())

    # SVM scores live around [-1.5, 1.5]; BANKING77 settles at T ~ 0.19. When
    # the out-of-fold predictions are all right (small, clean data) the loss
    # keeps falling as T -> 0 and every prediction would read 1.00: the floor
    # of 0.05 still turns a score gap of 0.2 into 98 %, but leaves a tie a tie.
    found = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return float(math.exp(found.x))


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float


class _FastScorer:
    """The fitted pipeline's decision scores for one text, computed directly:
    per TF-IDF block, count the analyser's n-grams found in the vocabulary,
    weight them (1 + log tf) * idf, L2-normalise the block, and add the SVM
    weights of those features. Built from the fitted pipeline at load time
    (never pickled), so it cannot drift from the stored model."""

    def __init__(self, pipeline: Pipeline) -> None:
        union: FeatureUnion = pipeline.named_steps["features"]
        svm: LinearSVC = pipeline.named_steps["svm"]
        if union.transformer_weights:
            raise ValueError("the fast scorer assumes an unweighted FeatureUnion")
        self.blocks = []
        offset = 0
        for _name, vectorizer in union.transformer_list:
            # The arithmetic below is TfidfVectorizer.transform for exactly
            # these options; refuse anything else rather than score wrongly.
            if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
                raise ValueError("the fast scorer assumes sublinear, idf-weighted, L2 TF-IDF")
            width = len(vectorizer.vocabulary_)
            weights = np.ascontiguousarray(svm.coef_[:, offset : offset + width].T)
            self.blocks.append(
                (vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, weights)
            )
            offset += width
        self.intercept = np.asarray(svm.intercept_, dtype=np.float64)

    def __call__(self, text: str) -> tuple[np.ndarray, bool]:
        """The class scores, and whether the text had any known n-gram."""
        scores = self.intercept.copy()
        known = False
        for analyzer, vocabulary, idf, weights in self.blocks:
            counts = Counter(
                index for gram in analyzer(text) if (index := vocabulary.get(gram)) is not None
            )
            if not counts:
                continue
            known = True
            columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (1.0 + np.log(tf)) * idf[columns]
            values /= np.sqrt(values @ values)
            scores += values @ weights[columns]
        if scores.size == 1:  # binary: see _score_matrix
            return np.array([-scores[0], scores[0]]), known
        return scores, known


class TextClassifier:
    """A fitted pipeline plus the temperature that calibrates its scores."""

    def __init__(self, pipeline: Pipeline, temperature: float) -> None:
        self.pipeline = pipeline
        self.temperature = temperature
        self._scorer: _FastScorer | None = None

    # The fast scorer duplicates the SVM weights; it is rebuilt after loading
    # instead of doubling the stored artifact.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_scorer"] = None
        return state

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.pipeline.classes_]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> TextClassifier:
        """Fit on `texts`; `weights` (one per text) make some examples count
        more in the SVM's loss (agents' corrections, see training.py)."""
        texts = [clip(t) for t in texts]
        labels = list(labels)
        # Sliced per fold by cross_val_predict, like the texts.
        params = {"svm__sample_weight": np.asarray(weights, dtype=np.float64)} if weights else {}
        counts = Counter(labels)
        if len(counts) < 2:
            raise TrainingError("A classifier needs at least two different labels.")
        # Out-of-fold scores: what the model says about texts it has not seen,
        # which is what the temperature must be calibrated on.
        if min(counts.values()) < 2:
            raise TrainingError("Every label needs at least two examples.")
        folds = min(3, min(counts.values()))
        try:
            oof = cross_val_predict(
                build_pipeline(),
                texts,
                labels,
                cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE),
                method="decision_function",
                params=params,
            )
            pipeline = build_pipeline().fit(texts, labels, **params)
        except ValueError as exc:  # e.g. texts without a single word
            raise TrainingError(f"Cannot learn from these texts: {exc}") from exc
        classes = np.array(sorted(counts))
        temperature = fit_temperature(_score_matrix(oof), np.searchsorted(classes, labels))
        # min_df's discarded n-grams are kept only for introspection and can
        # be most of the pickle (scikit-learn's documentation says so).
        for _name, vectorizer in pipeline.named_steps["features"].transformer_list:
            if hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_
        return cls(pipeline, temperature)

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities per text, and which texts had any known n-gram."""
        features = self.pipeline.named_steps["features"].transform([clip(t) for t in texts])
        raw = self.pipeline.named_steps["svm"].decision_function(features)
        known = np.diff(features.tocsr().indptr) > 0
        return softmax(_score_matrix(raw) / self.temperature, axis=1), known

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Batch prediction (evaluation); one text at a time use predict_one."""
        proba, known = self.probabilities(texts)
        labels = self.labels
        return [
            _prediction(labels, row, is_known) for row, is_known in zip(proba, known, strict=True)
        ]

    def prepare(self) -> None:
        """Build the single-text scorer now (a copy of the weights: tens of
        milliseconds for a big model) rather than in the first request."""
        if self._scorer is None:
            self._scorer = _FastScorer(self.pipeline)

    def predict_one(self, text: str) -> Prediction:
        self.prepare()
        scorer = cast(_FastScorer, self._scorer)  # prepare() has just built it
        scores, known = scorer(clip(text))
        return _prediction(self.labels, softmax(scores / self.temperature), known)


def _prediction(labels: list[str], proba: np.ndarray, known: bool) -> Prediction:
    best = int(proba.argmax())
    # A text sharing no n-gram with the training data (another script, noise)
    # scores only the intercepts: whatever the softmax says, the model knows
    # nothing about it.
    return Prediction(labels[best], float(proba[best]) if known else 0.0)


@dataclass(frozen=True)
class TicketPrediction:
    category: Prediction
    priority: Prediction | None


@dataclass
class TicketModel:
    """What one ClassifierModel version holds: the category classifier and,
    when the training data had enough priority labels, a priority classifier
    on the same text."""

    category: TextClassifier
    priority: TextClassifier | None = None

    def prepare(self) -> None:
        self.category.prepare()
        if self.priority is not None:
            self.priority.prepare()

    def predict_one(self, text: str) -> TicketPrediction:
        return TicketPrediction(
            category=self.category.predict_one(text),
            priority=self.priority.predict_one(text) if self.priority else None,
        )


@dataclass
class Dataset:
    """Texts with their category labels and, optionally, priority labels and
    sample weights (how much each example counts when training the category;
    None: all alike)."""

    texts: list[str]
    labels: list[str]
    priorities: list[str] | None = None
    weights: list[float] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int]) -> Dataset:
        return Dataset(
            texts=[self.texts[i] for i in indices],
            labels=[self.labels[i] for i in indices],
            priorities=[self.priorities[i] for i in indices] if self.priorities else None,
            weights=[self.weights[i] for i in indices] if self.weights else None,
        )


@dataclass
class Metrics:
    accuracy: float
    macro_f1: float
    train_samples: int
    eval_samples: int
    evaluated_on: str
    labels: list[str]
    dropped_labels: dict[str, int] = field(default_factory=dict)
    priority_accuracy: float | None = None
    priority_macro_f1: float | None = None
    # The examples the figures were measured on, so that another model (the
    # active version) can be measured on exactly the same ones.
    measured_on: Dataset | None = field(default=None, repr=False, compare=False)


def _frequent(values: Sequence[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n >= MIN_EXAMPLES_PER_LABEL}


def scores(truth: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    """Accuracy and macro-F1 of `predicted` against `truth`."""
    # zero_division: a label of the evaluation data the model never predicts
    # (or never saw) counts as F1 0 instead of raising a warning.
    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, average="macro", zero_division=0.0)),
    )


def _fit(data: Dataset) -> TicketModel:
    category = TextClassifier.fit(data.texts, data.labels, data.weights)
    priority = None
    if data.priorities:
        keep = _frequent(data.priorities)
        rows = [i for i, p in enumerate(data.priorities) if p in keep]
        if len(keep) >= 2:
            priority = TextClassifier.fit(
                [data.texts[i] for i in rows], [data.priorities[i] for i in rows]
            )
    return TicketModel(category=category, priority=priority)


def evaluate(model: TicketModel, data: Dataset) -> tuple[float, float, float | None, float | None]:
    predicted = [p.label for p in model.category.predict(data.texts)]
    accuracy, macro_f1 = scores(data.labels, predicted)
    p_accuracy = p_f1 = None
    if model.priority is not None and data.priorities:
        p_predicted = [p.label for p in model.priority.predict(data.texts)]
        p_accuracy, p_f1 = scores(data.priorities, p_predicted)
    return accuracy, macro_f1, p_accuracy, p_f1


def train(
    data: Dataset,
    *,
    eval_data: Dataset | None = None,
    holdout: float = 0.2,
    eval_name: str = "evaluation CSV",
) -> tuple[TicketModel, Metrics]:
    """Train on `data` and measure on `eval_data`, or on a stratified held-out
    share of `data`; in that case the shipped model is then refitted on all of
    `data`, so the figures are, if anything, a little pessimistic."""
    frequent = _frequent(data.labels)
    dropped = {label: n for label, n in Counter(data.labels).items() if label not in frequent}
    data = data.subset([i for i, label in enumerate(data.labels) if label in frequent])
    if len(frequent) < 2:
        raise TrainingError(
            f"Need at least two categories with {MIN_EXAMPLES_PER_LABEL} or more examples each "
            f"(have {len(frequent)})."
        )

    if eval_data is not None:
        model = _fit(data)
        measured_on, evaluated_on = eval_data, eval_name
        accuracy, macro_f1, p_accuracy, p_f1 = evaluate(model, measured_on)
    else:
        # Every label on both sides of the split, whatever the holdout share.
        n_eval = max(math.ceil(holdout * len(data)), len(frequent))
        train_rows, eval_rows = train_test_split(
            np.arange(len(data)),
            test_size=n_eval,
            stratify=data.labels,
            random_state=RANDOM_STATE,
        )
        measured_on, evaluated_on = data.subset(eval_rows.tolist()), "held-out split"
        trial = _fit(data.subset(train_rows.tolist()))
        accuracy, macro_f1, p_accuracy, p_f1 = evaluate(trial, measured_on)
        model = _fit(data)

    metrics = Metrics(
        accuracy=accuracy,
        macro_f1=macro_f1,
        train_samples=len(data),
        eval_samples=len(measured_on),
        evaluated_on=evaluated_on,
        labels=model.category.labels,
        dropped_labels=dropped,
        priority_accuracy=p_accuracy,
        priority_macro_f1=p_f1,
        measured_on=measured_on,
    )
    return model, metrics
