"""Versioned classifier artifacts: saved through Django's storage API into
ClassifierModel rows, and the active one loaded once per process.

Loading: `active_model()` is called for every new ticket. It asks the database
which version is active (one indexed single-row query) at most once per
HELPDESK_CLASSIFIER_RECHECK_SECONDS (default 60) and reads the artifact only
when that version changed, so a web or worker process loads a model once and
picks up a newly activated one within a minute. Activating in this process
(training here) takes effect at once.

Artifacts are pickles, and unpickling runs code, so each file carries an HMAC
of its content keyed with SECRET_KEY (or one of SECRET_KEY_FALLBACKS): a file
dropped into the media storage by anything but this module is refused, not
loaded. Rotating the secret without keeping the old one in the fallbacks
therefore retires the stored models; intake then uses the keyword rules and
triage until the next training.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.crypto import constant_time_compare, salted_hmac

from tickets.classification.model import Metrics, TicketModel, TicketPrediction
from tickets.models import ClassifierModel

logger = logging.getLogger(__name__)

_MAGIC = b"helpdesk-classifier/1\n"
_HMAC_SALT = "tickets.classification.store"


class ArtifactError(Exception):
    """The stored artifact is missing, damaged or not signed by this install."""


# --- artifact format -----------------------------------------------------------


def _signature(payload: bytes, secret: str | bytes) -> bytes:
    return salted_hmac(_HMAC_SALT, payload, secret=secret, algorithm="sha256").hexdigest().encode()


def dump_artifact(model: TicketModel) -> bytes:
    # Compressed: vocabularies and sparse-ish weight matrices shrink ~4x
    # (BANKING77: 23 MB -> 6 MB).
    payload = zlib.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), 6)
    return _MAGIC + _signature(payload, settings.SECRET_KEY) + b"\n" + payload


def load_artifact(blob: bytes) -> TicketModel:
    if not blob.startswith(_MAGIC):
        raise ArtifactError("not a classifier artifact")
    signature, sep, payload = blob[len(_MAGIC) :].partition(b"\n")
    if not sep:
        raise ArtifactError("truncated classifier artifact")
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(constant_time_compare(signature, _signature(payload, key)) for key in secrets):
        raise ArtifactError("classifier artifact signature does not match this install's key")
    # Safe to unpickle: the HMAC above proves this process's code wrote it.
    model = pickle.loads(zlib.decompress(payload))  # noqa: S301
    if not isinstance(model, TicketModel):
        raise ArtifactError("classifier artifact holds something else")
    return model


# --- saving and activating -------------------------------------------------------


def _next_version() -> int:
    return (ClassifierModel.objects.aggregate(top=Max("version"))["top"] or 0) + 1


def classifier_save(
    *,
    model: TicketModel,
    metrics: Metrics,
    source: str,
    activate: bool,
    baseline_version: int | None = None,
    baseline_accuracy: float | None = None,
    baseline_macro_f1: float | None = None,
) -> ClassifierModel:
    """Store a trained model as the next version (and make it the active one),
    with its figures and those of the version that was active, measured on the
    same examples.

    Two trainings finishing at once may pick the same number: the unique
    version makes the second fail, and it takes the next number instead."""
    blob = dump_artifact(model)
    for _attempt in range(5):
        row = None
        try:
            with transaction.atomic():
                version = _next_version()
                row = ClassifierModel(
                    version=version,
                    source=source[:200],
                    samples=metrics.train_samples,
                    accuracy=round(metrics.accuracy, 4),
                    macro_f1=round(metrics.macro_f1, 4),
                    eval_samples=metrics.eval_samples,
                    labels=metrics.labels,
                    baseline_version=baseline_version,
                    baseline_accuracy=_rounded(baseline_accuracy),
                    baseline_macro_f1=_rounded(baseline_macro_f1),
                )
                row.artifact.save(f"v{version}.model", ContentFile(blob), save=False)
                row.save()
                if activate:
                    classifier_activate(version=version)
                    row.is_active = True
            break
        except IntegrityError:
            if row is not None and row.artifact:
                row.artifact.storage.delete(row.artifact.name)
    else:
        raise IntegrityError("could not allocate a classifier version number")
    prune_artifacts()
    return row


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@transaction.atomic
def classifier_activate(*, version: int) -> ClassifierModel:
    """Make `version` the one intake uses (also the way back to an older one)."""
    row = ClassifierModel.objects.get(version=version)
    if not row.artifact:
        raise ArtifactError(f"classifier v{version} has no stored artifact any more")
    # Lock the current active row first: a concurrent activation waits here,
    # then sees this one's result, instead of both breaking the "one active"
    # constraint.
    list(ClassifierModel.objects.select_for_update().filter(is_active=True))
    ClassifierModel.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
    ClassifierModel.objects.filter(pk=row.pk).update(is_active=True)
    row.is_active = True
    forget_loaded()  # this process switches now; others within the recheck interval
    return row


def prune_artifacts() -> int:
    """Delete the files of old inactive versions, keeping the newest
    HELPDESK_CLASSIFIER_KEEP_VERSIONS (default 5) to roll back to. The rows
    stay, with their measured quality, as the history of the classifier."""
    keep = settings.HELPDESK_CLASSIFIER_KEEP_VERSIONS
    newest = ClassifierModel.objects.order_by("-version").values_list("version", flat=True)[:keep]
    old = (
        ClassifierModel.objects.filter(is_active=False)
        .exclude(version__in=list(newest))
        .exclude(artifact="")
    )
    pruned = 0
    for row in old:
        row.artifact.delete(save=False)
        ClassifierModel.objects.filter(pk=row.pk).update(artifact="")
        pruned += 1
    return pruned


# --- the model of this process -----------------------------------------------------


@dataclass(frozen=True)
class LoadedModel:
    pk: int
    version: int
    model: TicketModel

    def predict(self, text: str) -> TicketPrediction:
        return self.model.predict_one(text)


_lock = threading.Lock()
_loaded: LoadedModel | None = None
_checked_at = float("-inf")
# How many artifacts this process has read (tests check "once per process").
load_count = 0


def _monotonic() -> float:
    return time.monotonic()


def _recheck_seconds() -> float:
    return float(settings.HELPDESK_CLASSIFIER_RECHECK_SECONDS)


def forget_loaded() -> None:
    """Look at the database on the next call (after an activation; tests)."""
    global _loaded, _checked_at
    with _lock:
        _loaded = None
        _checked_at = float("-inf")


def _read_artifact(name: str) -> TicketModel:
    if not name:
        raise ArtifactError("the artifact was pruned")
    storage = ClassifierModel._meta.get_field("artifact").storage
    try:
        with storage.open(name, "rb") as fh:
            blob = fh.read()
    except OSError as exc:
        raise ArtifactError(f"cannot read {name}: {exc}") from exc
    return load_artifact(blob)


def read_version(row: ClassifierModel) -> TicketModel:
    """A stored version's model, read now (for batch evaluation; intake uses
    active_model())."""
    return _read_artifact(row.artifact.name)


def _read(pk: int, version: int, name: str) -> LoadedModel:
    global load_count
    model = _read_artifact(name)
    model.prepare()
    load_count += 1
    return LoadedModel(pk=pk, version=version, model=model)


def active_model() -> LoadedModel | None:
    """The active classifier, loaded once per process; None when there is no
    usable one (new install, or the artifact cannot be read)."""
    global _loaded, _checked_at
    if _monotonic() - _checked_at < _recheck_seconds():
        return _loaded
    with _lock:
        now = _monotonic()
        if now - _checked_at < _recheck_seconds():
            return _loaded  # another thread checked while we waited
        row = (
            ClassifierModel.objects.filter(is_active=True)
            .values_list("pk", "version", "artifact")
            .first()
        )
        if row is None:
            _loaded = None
        elif _loaded is None or _loaded.pk != row[0]:
            try:
                _loaded = _read(*row)
            except ArtifactError:
                # Intake must keep taking tickets: fall back to the keyword
                # rules and try again after the recheck interval.
                logger.exception("Cannot load classifier v%s", row[1])
                _loaded = None
        _checked_at = now
        return _loaded
