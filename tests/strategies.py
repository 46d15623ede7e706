"""Hypothesis strategies shared by the selection and scheduling tests."""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st


@st.composite
def pair_tables(draw, left: str = "L", right: str = "R", max_side: int = 5, max_pairs: int = 12,
                top_score: int = 10) -> pd.DataFrame:
    """Small two-sided tables ``left_id, right_id, score``; scores on a coarse grid so ties happen."""
    n_left = draw(st.integers(1, max_side))
    n_right = draw(st.integers(1, max_side))
    pairs = [(f"{left}{i}", f"{right}{j}") for i in range(n_left) for j in range(n_right)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=max_pairs, unique=True))
    scores = draw(st.lists(st.integers(0, top_score), min_size=len(chosen), max_size=len(chosen)))
    return pd.DataFrame(
        {
            "left_id": [a for a, _ in chosen],
            "right_id": [b for _, b in chosen],
            "score": [s / 10 for s in scores],
        }
    )
