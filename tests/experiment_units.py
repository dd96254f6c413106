"""What the experiment test files share: one simulated experiment (three arms, covariates with a
treatment x covariate interaction, a 0-10 score, clicks per session, a segment) and two lookups on a
comparison result."""
from __future__ import annotations

import numpy as np
import pandas as pd


def simulated_units() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 5000
    variant = rng.choice(["control", "b", "c"], size=n)
    pre = rng.gamma(2.0, 10.0, n)
    pre2 = rng.normal(0, 1, n)
    tenure = rng.integers(0, 48, n).astype(float)
    y = 0.8 * pre + 3 * pre2 + 0.05 * tenure + rng.normal(0, 8, n) + np.where(variant == "b", 1.5, 0.0)
    y += np.where(variant == "c", 0.2 * pre2, 0.0)  # a treatment x covariate interaction (Lin's case)
    latent = 6 + 0.03 * pre + 0.8 * pre2 + rng.normal(0, 2, n) + np.where(variant == "b", 0.4, 0.0)
    score = np.clip(np.round(latent), 0, 10)
    sessions = 1 + rng.poisson(3, n)
    clicks = rng.poisson(sessions * (0.5 + 0.01 * pre) * np.where(variant == "c", 1.1, 1.0))
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "y": y, "pre": pre, "pre2": pre2,
                         "tenure": tenure, "score": score, "clicks": clicks, "sessions": sessions,
                         "seg": rng.choice(["x", "z", "w"], size=n)})


def row(res, metric, variant):
    return res[(res["metric"] == metric) & (res["variant"] == variant)].iloc[0]


def se_of(res, metric, variant, *seg):
    return dict(zip(res.attrs["se_keys"], res.attrs["se"]))["\x1f".join(str(v) for v in (*seg, metric, variant))]
