"""Fitting a kind's weights on documented dockings, and measuring them without looking at the test.

``fit_weights`` learns non-negative weights (shares summing to 1, the form every preset has) that
rank each documented partner high in its query's list: a listwise softmax loss over the query's
candidate partners (ListNet with one relevant item; Cao et al. 2007), with an L2 pull towards the
preset's weights so that a handful of pairs moves the prior only as far as the evidence asks.
``cross_validated_scores`` does it leave-one-item-out: for each item of ``known_dockings.csv`` (one
page, one event) the weights are fitted on the other items' pairs and score the held-out item's
queries, so no figure is measured on a pair used to fit it.

>>> import numpy as np
>>> lists = [(np.array([[1.0, 0.0], [0.0, 1.0]]), 0), (np.array([[0.1, 0.9], [0.9, 0.1]]), 1)]
>>> w = fit_weights(lists, prior=np.array([0.5, 0.5]), l2=0.01)   # the first feature wins every list
>>> bool(w[0] > w[1]), round(float(w.sum()), 6)
(True, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

#: Score differences of 1/TEMPERATURE separate partners by one logit.
TEMPERATURE = 0.05
#: Pull towards the prior weights (shares); larger keeps the preset, smaller follows the pairs.
L2 = 1.0
#: Pulls tried by the nested cross-validation (``choose_l2``).
L2_GRID = (0.03, 0.3, 3.0, 30.0, 300.0)


def realistic_rank(others: np.ndarray, target: float) -> float:
    """1-based rank of a score ``target`` among the scores ``others`` (the target excluded), best
    first; ties count one half (the expected rank under a random tie-break, PyKEEN's realistic rank)."""
    others = np.asarray(others)
    return 1.0 + float((others > target).sum()) + 0.5 * float((others == target).sum())


def fit_weights(lists: Sequence[tuple[np.ndarray, int]], prior: np.ndarray,
                l2: float = L2, temperature: float = TEMPERATURE) -> np.ndarray:
    """Weights (non-negative, summing to 1) that rank each list's true row first.

    Parameters
    ----------
    lists : sequence of (X, true)
        One query's candidate pairs' feature values (rows x features, unknown as NaN, counted as 0
        as the scorer does) and the row of its documented partner, or the rows of a documented
        region's partners (any of them first counts: the loss is minus the log of their summed
        probability).
    prior : ndarray
        The preset's weights; normalised to shares.
    """
    prior = np.asarray(prior, dtype=np.float64)
    prior = prior / prior.sum()
    if not lists:
        return prior
    # every list's rows stacked in one matrix, with where each list starts: the loss is a per-list softmax,
    # computed for all lists at once (a Python loop over lists was most of a nested cross-validation's time)
    X = np.nan_to_num(np.concatenate([np.asarray(Xq, dtype=np.float64) for Xq, _ in lists]), nan=0.0)
    sizes = np.array([len(Xq) for Xq, _ in lists])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    segment = np.repeat(np.arange(len(lists)), sizes)
    true = np.zeros(len(X), dtype=bool)
    for start, (_, t) in zip(starts, lists, strict=True):
        true[start + np.atleast_1d(np.asarray(t, dtype=np.int64))] = True
    n = len(lists)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ w / temperature
        z -= np.maximum.reduceat(z, starts)[segment]
        p = np.exp(z)
        p /= np.add.reduceat(p, starts)[segment]
        hit = np.maximum(np.add.reduceat(np.where(true, p, 0.0), starts), 1e-300)
        total = -np.log(hit).sum() / n
        # d(-log hit)/dw = -(sum over true rows of p/hit * x - sum over rows of p * x) / temperature
        weight = np.where(true, p / hit[segment], 0.0) - p
        grad = -(weight @ X) / temperature / n
        diff = w - prior
        return total + l2 * float(diff @ diff), grad + 2 * l2 * diff

    result = minimize(loss, prior, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(prior))
    w = np.maximum(result.x, 0.0)
    return w / w.sum() if w.sum() > 0 else prior


__all__ = ["L2", "TEMPERATURE", "fit_weights", "realistic_rank"]
