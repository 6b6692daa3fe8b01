"""tools/analysis/label_origin_check.py: the slope of residual against 1 / s
is minus the labels' offset, with its 95 % interval."""
import numpy as np
import pytest

from tests.conftest import load_script

loc = load_script('tools/analysis/label_origin_check.py', 'label_origin_check')


@pytest.mark.parametrize('offset', [0.0, 1.0, 1.7])
def test_fit_line_recovers_the_offset(offset):
    """Residuals built as the script models them: a constant the model
    learnt, minus offset / s, plus noise; 95 % intervals cover the truth."""
    rng = np.random.default_rng(0)
    inv_scale = rng.uniform(0.3, 1.5, 400)  # 1 / s per face
    residual = 0.2 - offset * inv_scale + rng.normal(0, 0.3, 400)
    slope, half, const = loc.fit_line(inv_scale, residual)
    assert abs(-slope - offset) < half < 0.2
    assert const == pytest.approx(0.2, abs=0.15)


def test_fit_line_matches_numpy_polyfit():
    x = np.array([0.5, 0.8, 1.0, 1.3, 0.4])
    y = np.array([0.1, -0.3, -0.6, -0.9, 0.2])
    slope, _, const = loc.fit_line(x, y)
    ref_slope, ref_const = np.polyfit(x, y, 1)
    assert slope == pytest.approx(ref_slope)
    assert const == pytest.approx(ref_const)


def test_mean_downscaled_offset_recovers_the_offset():
    """Downscaled faces built as the script models them: the line's
    constant minus offset / s, plus noise; the interval covers the truth."""
    rng = np.random.default_rng(1)
    inv_scale = rng.uniform(0.5, 0.8, 300)
    residual = 0.2 - 0.4 * inv_scale + rng.normal(0, 0.2, 300)
    mean, half = loc.mean_downscaled_offset(0.2, inv_scale, residual)
    assert abs(mean - 0.4) < half < 0.1
