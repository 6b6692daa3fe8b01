"""Bounded DARK refinement: the same sub-pixel step as MMPose's DARK at a
clean maximum, and no runaway step where the heatmap is not concave."""
import numpy as np
import pytest
from mmpose.codecs.utils import get_heatmap_maximum, refine_keypoints_dark

from rht_mmpose.codecs.dark_refinement import refine_keypoints_dark_bounded


def _gaussian(h, w, cx, cy, sigma):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.exp(-((xx - cx)**2 + (yy - cy)**2) / (2 * sigma**2))


def test_recovers_subpixel_centres_like_mmpose_dark():
    rng = np.random.default_rng(0)
    centres = rng.uniform(8, 56, size=(12, 2))
    heatmaps = np.stack(
        [_gaussian(64, 64, cx, cy, 1.5) for cx, cy in centres]).astype(
            np.float32)
    argmax, _ = get_heatmap_maximum(heatmaps)
    ours = refine_keypoints_dark_bounded(argmax[None], heatmaps, 7)[0]
    theirs = refine_keypoints_dark(argmax[None].copy(), heatmaps.copy(), 7)[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    # DARK on a blurred Gaussian finds its centre well within a pixel
    assert np.abs(ours - centres).max() < 0.05
    assert np.abs(argmax - centres).max() > 0.2  # the argmax alone does not


def test_no_runaway_step_where_the_heatmap_is_not_a_maximum():
    # two unequal peaks 5 px apart (flip-test averaging of two guesses) and
    # a one-pixel spike between them: the argmax is the spike, but the
    # blurred log-heatmap there is a valley along x, not a maximum
    hm = _gaussian(64, 64, 29.5, 32, 1.5) + 0.6 * _gaussian(64, 64, 34.5, 32,
                                                            1.5)
    hm[32, 32] = 1.05 * hm.max()
    hm = hm[None].astype(np.float32)
    argmax, _ = get_heatmap_maximum(hm)
    assert tuple(argmax[0]) == (32, 32)
    # MMPose's Newton step leaves the 64x64 map
    theirs = refine_keypoints_dark(argmax[None].copy(), hm.copy(), 7)[0]
    assert np.abs(theirs - argmax).max() > 20, theirs
    # brute-force Hessian of the modulated map at the argmax: not concave
    from mmpose.codecs.utils import gaussian_blur
    log = np.log(np.maximum(gaussian_blur(hm.copy(), 7), 1e-10))[0]
    x, y = 32, 32
    dxx = 0.25 * (log[y, x + 2] - 2 * log[y, x] + log[y, x - 2])
    assert dxx > 0
    ours = refine_keypoints_dark_bounded(argmax[None], hm, 7)[0]
    np.testing.assert_array_equal(ours, argmax)


def test_step_is_clipped_to_max_offset():
    # a clean but wide maximum 1.4 px right of the argmax column's centre:
    # with max_offset 0.25 the step stops there, in the right direction
    hm = _gaussian(64, 64, 32.45, 30.0, 3.0)[None].astype(np.float32)
    argmax, _ = get_heatmap_maximum(hm)
    full = refine_keypoints_dark_bounded(argmax[None], hm, 7)[0]
    short = refine_keypoints_dark_bounded(argmax[None], hm, 7,
                                          max_offset=0.25)[0]
    assert abs(full[0, 0] - 32.45) < 0.05
    np.testing.assert_allclose(short[0] - argmax[0],
                               np.clip(full[0] - argmax[0], -0.25, 0.25),
                               atol=1e-6)


def test_clip_border_and_errors():
    # a peak 1 px from the border keeps its argmax (no 5x5 stencil there)
    hm = _gaussian(16, 16, 0.6, 8.3, 1.5)[None].astype(np.float32)
    argmax, _ = get_heatmap_maximum(hm)
    out = refine_keypoints_dark_bounded(argmax[None], hm, 3)[0]
    np.testing.assert_array_equal(out, argmax)
    # the input is not modified
    kp = argmax[None].copy()
    refine_keypoints_dark_bounded(kp, hm, 3)
    np.testing.assert_array_equal(kp[0], argmax)
    with pytest.raises(ValueError, match='max_offset is 0'):
        refine_keypoints_dark_bounded(kp, hm, 3, max_offset=0)
    with pytest.raises(ValueError, match='heatmaps have 2 channels'):
        refine_keypoints_dark_bounded(kp, np.concatenate([hm, hm]), 3)
