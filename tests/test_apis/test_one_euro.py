"""One Euro filter against a scalar loop of the published formulas."""
import math

import numpy as np
import pytest

from rht_mmpose.apis import OneEuroFilter


def one_euro_by_hand(xs, ts, min_cutoff, beta, d_cutoff):
    """Casiez, Roussel and Vogel (CHI 2012), section "The 1 Euro filter",
    one scalar at a time:

    alpha(fc, Te) = 1 / (1 + tau / Te), tau = 1 / (2 pi fc)
    dX_i = (X_i - Xhat_{i-1}) / Te
    dXhat_i = alpha(dcutoff) dX_i + (1 - alpha(dcutoff)) dXhat_{i-1}
    fc_i = mincutoff + beta |dXhat_i|
    Xhat_i = alpha(fc_i) X_i + (1 - alpha(fc_i)) Xhat_{i-1}
    with Xhat_1 = X_1 and dXhat_1 = 0.
    """

    def alpha(fc, te):
        tau = 1 / (2 * math.pi * fc)
        return 1 / (1 + tau / te)

    out = [xs[0]]
    x_hat, dx_hat = xs[0], 0.0
    for i in range(1, len(xs)):
        te = ts[i] - ts[i - 1]
        dx = (xs[i] - x_hat) / te
        a_d = alpha(d_cutoff, te)
        dx_hat = a_d * dx + (1 - a_d) * dx_hat
        fc = min_cutoff + beta * abs(dx_hat)
        a = alpha(fc, te)
        x_hat = a * xs[i] + (1 - a) * x_hat
        out.append(x_hat)
    return out


def test_matches_the_published_formulas_elementwise():
    rng = np.random.default_rng(0)
    steps = 40
    # uneven sampling times (a camera's frames come when they come)
    ts = np.cumsum(rng.uniform(0.02, 0.05, steps))
    # (K, 2) = (3, 2) landmarks: a still point, a ramp, noise + a jump
    signals = np.zeros((steps, 3, 2))
    signals[:, 0] = [5.0, -2.0]
    signals[:, 1, 0] = 3.0 * ts
    signals[:, 1, 1] = -7.0 * ts
    signals[:, 2] = rng.normal(0, 0.5, (steps, 2))
    signals[20:, 2] += 4.0
    for min_cutoff, beta, d_cutoff in [(1.0, 0.0, 1.0), (0.5, 0.7, 2.0),
                                       (2.0, 5.0, 1.0)]:
        filt = OneEuroFilter(min_cutoff, beta, d_cutoff)
        got = np.stack([filt(x, t) for x, t in zip(signals, ts)])
        for k in range(3):
            for c in range(2):
                want = one_euro_by_hand(list(signals[:, k, c]), list(ts),
                                        min_cutoff, beta, d_cutoff)
                np.testing.assert_allclose(got[:, k, c], want, rtol=1e-12,
                                           atol=1e-12)


def test_still_signal_passes_and_higher_beta_lags_less():
    ts = np.arange(30) / 30.
    still = OneEuroFilter(1.0, 1.0)
    for t in ts:
        np.testing.assert_allclose(still(np.array([3.5, -1.0]), t),
                                   [3.5, -1.0])
    ramp = 10.0 * ts  # 10 units per second
    lag = {}
    for beta in (0.0, 1.0):
        filt = OneEuroFilter(1.0, beta)
        lag[beta] = ramp[-1] - [filt(np.array(x), t)
                                for x, t in zip(ramp, ts)][-1]
    assert 0 < lag[1.0] < lag[0.0]


def test_reset_and_bad_values():
    filt = OneEuroFilter()
    filt(np.zeros(2), 0.0)
    filt(np.ones(2), 0.1)
    filt.reset()
    np.testing.assert_allclose(filt(np.full(2, 7.0), 0.0), [7.0, 7.0])
    with pytest.raises(ValueError, match='time must increase'):
        filt(np.zeros(2), 0.0)
    with pytest.raises(ValueError, match=r'shape \(3,\)'):
        filt(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match='min_cutoff must be > 0'):
        OneEuroFilter(min_cutoff=0)
    with pytest.raises(ValueError, match='beta must be >= 0'):
        OneEuroFilter(beta=-1)
