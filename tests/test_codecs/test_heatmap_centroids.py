"""Centroid decoding of LandmarkBoundaryHeatmap (centroid_threshold)
against hand-built heatmaps and a brute-force loop."""
import numpy as np
import pytest

from rht_mmpose.codecs import LandmarkBoundaryHeatmap
from rht_mmpose.codecs.landmark_boundary_heatmap import heatmap_centroids


def gaussian(h, w, cx, cy, sigma):
    ys, xs = np.mgrid[0:h, 0:w]
    return np.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * sigma**2))


def brute_force_centroid(hm, threshold):
    """(x, y) centroid of one (H, W) map, weights max(h - t * max(h), 0),
    pixel by pixel."""
    peak = hm.max()
    num, den = np.zeros(2), 0.
    for y in range(hm.shape[0]):
        for x in range(hm.shape[1]):
            wgt = max(hm[y, x] - threshold * peak, 0.)
            num += wgt * np.array([x, y])
            den += wgt
    return num / den


def test_symmetric_peak_gives_its_centre():
    hm = np.stack([gaussian(32, 32, 10.3, 20.6, 1.5),
                   gaussian(32, 32, 25.0, 4.5, 2.0)]).astype(np.float32)
    out = heatmap_centroids(hm, 0.5, np.zeros((2, 2), np.float32))
    np.testing.assert_allclose(out, [[10.3, 20.6], [25.0, 4.5]], atol=0.05)


def test_ridge_centroid_follows_each_ridge_where_argmax_is_shared():
    # two vertical ridges of the same column that share their highest pixel
    # (row 10) but extend up (landmark 0) and down (landmark 1), as the
    # nose-ridge channels of an undertrained model do
    hm = np.zeros((2, 24, 24), np.float32)
    hm[0, 4:11, 12] = 0.9
    hm[1, 10:17, 12] = 0.9
    hm[:, 10, 12] = 1.0
    fallback = np.zeros((2, 2), np.float32)
    out = heatmap_centroids(hm, 0.5, fallback)
    for k in range(2):
        np.testing.assert_allclose(out[k], brute_force_centroid(hm[k], 0.5),
                                   rtol=1e-6)
    assert out[0, 1] < 10 < out[1, 1]  # argmax would put both at row 10

    codec = LandmarkBoundaryHeatmap(
        input_size=(48, 48), heatmap_size=(24, 24), boundary_scheme='aflw',
        centroid_threshold=0.5)
    maps = np.zeros((19, 24, 24), np.float32)
    maps[:2] = hm
    keypoints, scores = codec.decode(maps)
    np.testing.assert_allclose(keypoints[0, :2], out * 2, rtol=1e-6)
    np.testing.assert_allclose(scores[0, :2], [1.0, 1.0])
    # an empty channel keeps what the argmax decode gives (MMPose's -1
    # location for a map without a positive value)
    plain = LandmarkBoundaryHeatmap(
        input_size=(48, 48), heatmap_size=(24, 24), boundary_scheme='aflw')
    np.testing.assert_allclose(keypoints[0, 5], plain.decode(maps)[0][0, 5])
    np.testing.assert_allclose(keypoints[0, 5], [-2, -2])


def test_default_decode_is_unchanged():
    hm = gaussian(24, 24, 7.0, 9.0, 1.5)[None].repeat(19, 0).astype(
        np.float32)
    plain = LandmarkBoundaryHeatmap(
        input_size=(48, 48), heatmap_size=(24, 24), boundary_scheme='aflw')
    assert plain.centroid_threshold is None
    np.testing.assert_allclose(plain.decode(hm)[0][0, 0], [14.0, 18.0])


@pytest.mark.parametrize('bad', [-0.1, 1.0, 2])
def test_bad_threshold(bad):
    with pytest.raises(ValueError, match='centroid_threshold'):
        LandmarkBoundaryHeatmap(centroid_threshold=bad)
