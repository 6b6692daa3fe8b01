"""LandmarkBoundaryHeatmap: round trip on real 300W faces, boundary maps,
flip consistency, edge cases and error paths."""
import glob
import os.path as osp

import numpy as np
import pytest
from mmpose.codecs import MSRAHeatmap
from mmpose.datasets.transforms import (GetBBoxCenterScale, LoadImage,
                                        TopdownAffine)

from rht_mmpose.codecs import (LandmarkBoundaryHeatmap, boundary_flip_indices,
                               catmull_rom_curve, get_boundaries,
                               render_boundary_heatmap)
from rht_mmpose.utils.io import read_pts

# 300W flip pairs (MMPose 300w metainfo 'swap'), written out independently.
FLIP_300W = (list(range(16, -1, -1)) + list(range(26, 16, -1)) +
             [27, 28, 29, 30] + [35, 34, 33, 32, 31] +
             [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40] +
             [54, 53, 52, 51, 50, 49, 48] + [59, 58, 57, 56, 55] +
             [64, 63, 62, 61, 60] + [67, 66, 65])


@pytest.fixture(scope='module')
def faces_256(data_root):
    """Four real 300W faces warped to 256x256: (F, 68, 2) keypoints."""
    pts_files = sorted(
        glob.glob(osp.join(data_root, '300w_subset/helen/testset/*.pts')))[:4]
    out = []
    for pts in pts_files:
        kpts = read_pts(pts)
        img_path = glob.glob(osp.splitext(pts)[0] + '.*g')[0]
        x0, y0 = kpts.min(0)
        x1, y1 = kpts.max(0)
        results = dict(
            img_path=img_path,
            bbox=np.array([[x0, y0, x1, y1]], np.float32),
            keypoints=kpts[None],
            keypoints_visible=np.ones((1, 68), np.float32))
        for t in (LoadImage(), GetBBoxCenterScale(padding=1.25),
                  TopdownAffine(input_size=(256, 256))):
            results = t(results)
        out.append(results['transformed_keypoints'][0])
    return np.stack(out)


def test_round_trip_dark_real_faces(faces_256):
    codec = LandmarkBoundaryHeatmap(
        input_size=(256, 256), heatmap_size=(128, 128), unbiased=True)
    for kpts in faces_256:
        enc = codec.encode(kpts[None], np.ones((1, 68)))
        assert enc['heatmaps'].shape == (68 + 13, 128, 128)
        assert enc['heatmaps'].dtype == np.float32
        assert enc['keypoint_weights'].shape == (1, 68)
        dec, scores = codec.decode(enc['heatmaps'])
        assert dec.shape == (1, 68, 2) and scores.shape == (1, 68)
        inside = ((kpts / 2 > 2) & (kpts / 2 < 125)).all(-1)
        assert inside.sum() > 60
        err_hm = np.abs(dec[0] - kpts)[inside] / 2  # heatmap pixels
        assert err_hm.max() < 0.1, err_hm.max()
        # landmark-only input decodes the same
        dec2, _ = codec.decode(enc['heatmaps'][:68])
        np.testing.assert_allclose(dec2, dec)


def test_msra_mode_equals_mmpose_msra(faces_256):
    codec = LandmarkBoundaryHeatmap(boundary_scheme='300w')
    msra = MSRAHeatmap((256, 256), (128, 128), sigma=1.5)
    kpts = faces_256[:1]
    enc = codec.encode(kpts)
    ref = msra.encode(kpts)
    np.testing.assert_array_equal(enc['heatmaps'][:68], ref['heatmaps'])
    np.testing.assert_array_equal(enc['keypoint_weights'],
                                  ref['keypoint_weights'])
    dec, scores = codec.decode(enc['heatmaps'])
    ref_dec, ref_scores = msra.decode(ref['heatmaps'])
    np.testing.assert_allclose(dec, ref_dec)
    np.testing.assert_allclose(scores, ref_scores)


def _curve_pixels(points):
    curve = catmull_rom_curve(points)
    return np.unique(np.floor(curve + 0.5).astype(int), axis=0)


def test_boundary_maps_peak_on_curve_zero_beyond_3sigma(faces_256):
    sigma = 1.0
    codec = LandmarkBoundaryHeatmap(boundary_scheme='300w',
                                    boundary_sigma=sigma)
    kpts = faces_256[1]
    hm = codec.encode(kpts[None])['heatmaps'][68:]
    yy, xx = np.mgrid[0:128, 0:128]
    for p, idx in enumerate(get_boundaries('300w')):
        pts = kpts[idx] / 2
        pix = _curve_pixels(pts)
        pix = pix[((pix >= 0) & (pix < 128)).all(1)]
        assert hm[p].max() == pytest.approx(1.0)
        # every landmark on the boundary and every curve pixel is a peak
        for x, y in np.floor(pts + 0.5).astype(int):
            assert hm[p, y, x] == pytest.approx(1.0)
        assert np.allclose(hm[p, pix[:, 1], pix[:, 0]], 1.0)
        # brute force: distance of every pixel centre to the curve pixels
        d = np.sqrt((xx[..., None] - pix[:, 0])**2 +
                    (yy[..., None] - pix[:, 1])**2).min(-1)
        expected = np.where(d <= 3 * sigma, np.exp(-d**2 / (2 * sigma**2)),
                            0.)
        np.testing.assert_allclose(hm[p], expected, atol=1e-5)
        assert (hm[p][d > 3 * sigma] == 0).all()
        # the curve really interpolates: far from its points means 0
        dpts = np.sqrt((xx[..., None] - pts[:, 0])**2 +
                       (yy[..., None] - pts[:, 1])**2).min(-1)
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1).max()
        assert (hm[p][dpts > seg + 3 * sigma + 1] == 0).all()


def test_boundaries_are_dense_8_connected():
    pts = np.array([[10., 10.], [40., 30.], [90., 20.], [120., 100.]])
    curve = catmull_rom_curve(pts)
    steps = np.abs(np.diff(np.floor(curve + 0.5), axis=0)).max(1)
    assert steps.max() <= 1
    np.testing.assert_allclose(curve[0], pts[0])
    np.testing.assert_allclose(curve[-1], pts[-1])
    # the curve passes through the inner points
    for p in pts[1:-1]:
        assert np.linalg.norm(curve - p, axis=1).min() < 1e-9
    # reversal gives the same curve
    rev = catmull_rom_curve(pts[::-1])
    np.testing.assert_allclose(rev[::-1], curve, atol=1e-9)


def test_boundary_edge_cases():
    size = (32, 32)
    # duplicate points and a 2-point boundary: a straight line
    line = render_boundary_heatmap(
        np.array([[4., 16.], [4., 16.], [28., 16.], [28., 16.]]), size, 1.0)
    assert (line[16, 4:29] == 1).all()
    assert line[16, 3] == pytest.approx(np.exp(-0.5))
    assert line[19, 10] == pytest.approx(np.exp(-4.5))
    assert line[20, 10] == 0
    # a single distinct point: a dot
    dot = render_boundary_heatmap(np.array([[5., 5.], [5., 5.]]), size, 1.0)
    assert dot[5, 5] == 1 and dot.sum() == pytest.approx(
        sum(np.exp(-(i * i + j * j) / 2.) for i in range(-3, 4)
            for j in range(-3, 4) if i * i + j * j <= 9))
    # a curve just outside the map still lights the edge pixels
    out = render_boundary_heatmap(np.array([[-2., 0.], [-2., 31.]]), size,
                                  1.0)
    assert out[10, 0] == pytest.approx(np.exp(-2.))
    assert out[10, 1] == pytest.approx(np.exp(-4.5))
    assert out[10, 2] == 0
    # far outside: zeros
    assert not render_boundary_heatmap(
        np.array([[-100., 0.], [-100., 31.]]), size, 1.0).any()


def test_invisible_point_zeros_its_boundaries(faces_256):
    codec = LandmarkBoundaryHeatmap(boundary_scheme='300w')
    vis = np.ones((1, 68), np.float32)
    vis[0, 37] = 0  # on left upper eyelid only
    enc = codec.encode(faces_256[:1], vis)
    assert enc['keypoint_weights'][0, 37] == 0
    assert not enc['heatmaps'][37].any()
    eyelid = 68 + codec.boundary_names.index('left_upper_eyelid')
    assert not enc['heatmaps'][eyelid].any()
    others = [68 + p for p in range(13) if 68 + p != eyelid]
    assert all(enc['heatmaps'][c].max() == 1 for c in others)
    # non-finite coordinates behave like invisible points
    kpts = faces_256[:1].copy()
    kpts[0, 0] = np.nan
    enc = codec.encode(kpts)
    assert enc['keypoint_weights'][0, 0] == 0
    assert not enc['heatmaps'][68].any()  # cheek


def test_points_outside_the_map_get_zero_weight(faces_256):
    codec = LandmarkBoundaryHeatmap(boundary_scheme='300w')
    kpts = faces_256[:1] + np.array([180., 0.], np.float32)  # shift right
    enc = codec.encode(kpts)
    outside = kpts[0, :, 0] / 2 > 133  # whole 3-sigma window off the map
    assert outside.any()
    assert (enc['keypoint_weights'][0, outside] == 0).all()
    assert np.isfinite(enc['heatmaps']).all()


@pytest.mark.parametrize('unbiased', [True, False])
def test_flip_heatmaps_equals_encoding_flipped_keypoints(faces_256, unbiased):
    """np.flip along W + channel permutation == encoding flipped points.

    Pixel-centre convention: heatmap pixel j has its centre at heatmap
    coordinate j, so np.flip maps coordinate x_h to (W - 1) - x_h, i.e.
    input coordinate x to s * (W - 1) - x (s = 2: 254 - x). With that flip
    the two sides agree up to float rounding (the curve is reversal
    symmetric, the distance transform is exact). MMPose's image flip at
    256 px uses 255 - x, half a heatmap pixel away (this is why MMPose's
    heads ``shift_heatmap`` after flip test); that convention is checked
    on decoded points with a tolerance of that half pixel.
    """
    codec = LandmarkBoundaryHeatmap(boundary_scheme='300w', unbiased=unbiased)
    perm = codec.flip_indices_with_boundaries(FLIP_300W)
    assert len(perm) == 81 and sorted(perm) == list(range(81))
    for kpts in faces_256:
        hm = codec.encode(kpts[None])['heatmaps']
        flipped = kpts.copy()
        flipped[:, 0] = 2 * (128 - 1) - flipped[:, 0]
        flipped = flipped[FLIP_300W]
        hm_f = codec.encode(flipped[None])['heatmaps']
        np.testing.assert_allclose(
            np.flip(hm, -1)[perm][68:], hm_f[68:], atol=1e-5, rtol=0)
        # MMPose's MSRA Gaussian (non-integer radius 3 sigma = 4.5) spans
        # [mu - 4, mu + 5]: a flip moves that extra column to the other
        # side, values there are at most exp(-5^2 / (2 sigma^2)).
        atol = 1e-5 if unbiased else np.exp(-25 / (2 * 1.5**2)) + 1e-6
        np.testing.assert_allclose(
            np.flip(hm, -1)[perm][:68], hm_f[:68], atol=atol, rtol=0)

        # MMPose image-flip convention (x' = 255 - x): half a heatmap pixel.
        mm = kpts.copy()
        mm[:, 0] = 255 - mm[:, 0]
        mm = mm[FLIP_300W]
        dec, _ = codec.decode(np.ascontiguousarray(np.flip(hm, -1)[perm]))
        inside = ((mm / 2 > 2) & (mm / 2 < 125)).all(-1)
        err = np.abs(dec[0] - mm)[inside]
        tol = 0.2 if unbiased else 1.0  # decode error (input px)
        assert np.abs(err[:, 0] - 1.0).max() < tol  # 0.5 hm px = 1 input px
        assert err[:, 1].max() < tol


def test_auto_scheme_and_flip_indices():
    codec = LandmarkBoundaryHeatmap(input_size=(64, 64),
                                    heatmap_size=(32, 32))
    assert codec.num_keypoints is None
    kpts = np.random.RandomState(0).uniform(8, 56, (1, 19, 2))
    enc = codec.encode(kpts)
    assert codec.boundary_scheme == 'aflw'
    assert (codec.num_keypoints, codec.num_boundaries) == (19, 6)
    assert enc['heatmaps'].shape == (25, 32, 32)
    assert codec.boundary_flip_indices == boundary_flip_indices('aflw')
    # decode alone infers the scheme from K + P or K channels
    assert LandmarkBoundaryHeatmap().decode(
        np.zeros((42, 8, 8), np.float32))[0].shape == (1, 29, 2)
    assert LandmarkBoundaryHeatmap().decode(
        np.zeros((98, 8, 8), np.float32))[0].shape == (1, 98, 2)


def test_errors_name_the_bad_value():
    with pytest.raises(ValueError, match='106'):
        LandmarkBoundaryHeatmap().encode(np.zeros((1, 106, 2)))
    with pytest.raises(ValueError, match='unknown boundary_scheme'):
        LandmarkBoundaryHeatmap(boundary_scheme='lapa')
    codec = LandmarkBoundaryHeatmap(boundary_scheme='wflw')
    with pytest.raises(ValueError, match='got 68 keypoints, expected 98'):
        codec.encode(np.zeros((1, 68, 2)))
    with pytest.raises(ValueError, match=r'\(2, 98, 2\)'):
        codec.encode(np.zeros((2, 98, 2)))
    with pytest.raises(ValueError, match='50 channels'):
        codec.decode(np.zeros((50, 8, 8), np.float32))
    with pytest.raises(ValueError, match='got 68 landmark flip indices'):
        codec.flip_indices_with_boundaries(list(range(68)))
    with pytest.raises(ValueError, match='not known yet'):
        LandmarkBoundaryHeatmap().boundary_flip_indices


def test_separable_dark_gaussians_equal_mmpose():
    from mmpose.codecs.utils import generate_unbiased_gaussian_heatmaps

    from rht_mmpose.codecs.landmark_boundary_heatmap import \
        separable_unbiased_gaussians
    rng = np.random.RandomState(0)
    kpts = rng.uniform(-12, 44, (1, 40, 2)).astype(np.float32)
    vis = (rng.rand(1, 40) > 0.2).astype(np.float32)
    vis[0, :3] = 0.3  # weak visibility stays as weight, no heatmap
    ref_hm, ref_w = generate_unbiased_gaussian_heatmaps((32, 24), kpts, vis,
                                                        1.5)
    hm, w = separable_unbiased_gaussians((32, 24), kpts, vis, 1.5)
    assert (ref_w == 0).sum() > (vis == 0).sum()  # some points off the map
    np.testing.assert_array_equal(w, ref_w)
    np.testing.assert_allclose(hm, ref_hm, atol=1e-6, rtol=0)
