"""The analytics rollup layer: ticket facts (facts.py), computed by the
metric code and kept for fast dashboard reads."""
