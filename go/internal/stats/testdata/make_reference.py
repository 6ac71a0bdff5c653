"""Reference values for go/internal/stats's tests, from scipy (the implementation the gate's
Spearman must match). Run with any Python that has numpy and scipy, e.g. the conversion
toolchain's venv:

    python go/internal/stats/testdata/make_reference.py > go/internal/stats/testdata/reference.json

NaN contract of the Go package: NaN ranks below every number, tied with the other NaNs.
scipy has no such policy, so the expected values for inputs with NaN are scipy's on the
same data with NaN replaced by a value below every other one, -Inf included (which is that
definition).
"""
import json
import math

import numpy as np
from scipy import stats

CASES = {
    "ties": ([1, 2, 2, 3, 5], [5, 6, 7, 8, 7]),
    "ties_both": ([1, 2, 2, 3, 5], [2, 1, 4, 4, 9]),
    "reversed": ([1, 2, 3], [9, 4, 1]),
    "floats": ([0.91, 0.12, 0.55, 0.55, 0.3, 0.78, 0.02], [4.8, 0.4, 2.5, 3.1, 1.0, 4.0, 0.0]),
    "nan_in_x": ([0.9, float("nan"), 0.4, 0.7, float("nan"), 0.1], [5.0, 3.0, 2.0, 4.0, 0.5, 1.0]),
    "nan_and_neg_inf": ([0.5, float("nan"), float("-inf"), 0.2], [3.0, 1.0, 1.0, 2.0]),
}


def nan_lowest(v):
    a = np.array(v, dtype=np.float64)
    finite = a[~np.isnan(a) & ~np.isinf(a)]
    low = (finite.min() if finite.size else 0.0) - 1e6
    # -Inf below every finite value, NaN below -Inf (finite stand-ins keep scipy's ranking).
    return np.where(np.isnan(a), low - 1e6, np.where(np.isneginf(a), low, a))


def num(x):
    return None if math.isnan(x) else float(x)


out = []
for name, (x, y) in CASES.items():
    xs, ys = nan_lowest(x), nan_lowest(y)
    out.append({
        "name": name,
        # as strings: JSON has no NaN or Inf; Go's strconv.ParseFloat reads these.
        "x": [repr(float(v)) for v in x],
        "y": [repr(float(v)) for v in y],
        "ranks_x": stats.rankdata(xs).tolist(),
        "spearman": num(stats.spearmanr(xs, ys)[0]),
        # Pearson propagates NaN: no scipy value for those cases (null means NaN).
        "pearson": None if np.isnan(x).any() or np.isinf(x).any() else num(stats.pearsonr(x, y)[0]),
    })
print(json.dumps({"generator": "scipy " + __import__("scipy").__version__, "cases": out}, indent=1))
