"""Issue 14 options on Spark local give DuckDB's numbers: covariate vectors (CUPED and Lin), sequential,
Fieller, capping, quantile metrics, segments (explorer and heterogeneity). One Spark session, few queries."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import experiments as ex
from cxlib.experiments import Metric


@pytest.fixture(scope="module")
def units():
    rng = np.random.default_rng(77)
    n = 4000
    variant = rng.choice(["control", "b", "c"], size=n)
    pre, pre2 = rng.gamma(2.0, 10.0, n), rng.normal(0, 1, n)
    y = 0.8 * pre + 3 * pre2 + rng.normal(0, 8, n) + np.where(variant == "b", 1.5, 0.0)
    minutes = rng.lognormal(3, 1, n) * np.where(variant == "c", 0.8, 1.0)
    sessions = 1 + rng.poisson(3, n)
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "y": y, "pre": pre, "pre2": pre2,
                         "score": np.clip(np.round(rng.normal(7, 2, n)), 0, 10),
                         "conv": (rng.random(n) < 0.1).astype(int), "minutes": minutes,
                         "clicks": rng.poisson(sessions * 0.8), "sessions": sessions,
                         "seg": rng.choice(list("pqrs"), size=n)})


def _same(a, b, key):
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True),
                                  check_dtype=False, rtol=1e-9)


@pytest.mark.slow
@pytest.mark.spark
def test_new_options_same_numbers_on_spark(units, spark_backend):
    t = spark_backend.create_table("cx_test_units_next", units, overwrite=True)
    ms = [Metric("y", covariate=["pre", "pre2"]), Metric("score", "nps", covariate="pre2"),
          Metric("clicks", "ratio", denominator="sessions", covariate="pre"), Metric("conv", "proportion"),
          Metric("minutes", "median", direction="decrease"), Metric("minutes", "p90", direction="decrease")]
    opts = dict(control="control", metrics=ms, sequential=True, lift_ci="fieller", adjustment="lin", cap=0.99)
    _same(ex.compare(t, **opts), ex.compare(units, **opts), ["metric", "variant"])
    seg_opts = dict(control="control", metrics=[Metric("y", covariate="pre"), Metric("minutes", "median")], by="seg",
                    correction="fdr_bh", correction_family="metric")
    a, b = ex.compare(t, **seg_opts), ex.compare(units, **seg_opts)
    key = ["seg", "metric", "variant"]
    _same(a, b, key)
    _same(ex.segment_explorer(a), ex.segment_explorer(b), key)
    _same(ex.heterogeneity(a), ex.heterogeneity(b), ["metric", "variant"])
