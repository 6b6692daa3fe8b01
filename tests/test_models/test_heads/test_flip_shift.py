"""Sub-pixel shift of un-flipped heatmaps (RHTHead's flip test with a
numeric ``shift_heatmap``)."""
import numpy as np
import pytest
import torch

from rht_mmpose.utils.face_geometry import shift_heatmaps_right


@pytest.mark.parametrize('shift', [0.5, 0.75, 1.0, 2.3, -0.25, -1.5])
def test_shift_equals_brute_force_interpolation(shift):
    g = torch.Generator().manual_seed(0)
    hm = torch.rand(2, 3, 4, 9, generator=g)
    out = shift_heatmaps_right(hm, shift)
    xs = np.arange(9)
    for b in range(2):
        for c in range(3):
            for y in range(4):
                # out[x] = h(x - shift), border values repeated
                want = np.interp(xs - shift, xs, hm[b, c, y].numpy())
                np.testing.assert_allclose(out[b, c, y].numpy(), want,
                                           rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('stride', [2, 4])
def test_unflipped_gaussian_lands_on_the_true_position(stride):
    """A landmark at input x has its heatmap peak at x / s; in the flipped
    input it is at W_in - 1 - x, i.e. (W_in - 1 - x) / s on the heatmap.
    torch.flip of that heatmap puts it at W - 1 - (W_in - 1 - x) / s,
    1 - 1/s pixel left of x / s; the shift restores it."""
    w_in = 128
    w = w_in // stride
    xs = torch.arange(w, dtype=torch.float64)

    def gaussian(centre):
        return torch.exp(-(xs - centre)**2 / (2 * 2.0**2)).view(1, 1, 1, w)

    for x_in in (52.0, 64.0, 75.5):
        flipped_back = gaussian((w_in - 1 - x_in) / stride).flip(-1)
        restored = shift_heatmaps_right(flipped_back, 1 - 1 / stride)

        def centroid(h):
            return float((h[0, 0, 0] * xs).sum() / h[0, 0, 0].sum())

        assert centroid(flipped_back) == pytest.approx(
            x_in / stride - (1 - 1 / stride), abs=1e-3)
        assert centroid(restored) == pytest.approx(x_in / stride, abs=1e-3)


def test_shift_too_large():
    with pytest.raises(ValueError, match='shift 9'):
        shift_heatmaps_right(torch.zeros(1, 1, 2, 8), 9)


def test_one_pixel_equals_mmpose_shift_heatmap():
    """``shift_heatmap=True`` now goes through shift_heatmaps_right."""
    from mmpose.models.utils.tta import flip_heatmaps
    hm = torch.rand(2, 5, 6, 7, generator=torch.Generator().manual_seed(1))
    perm = [4, 3, 2, 1, 0]
    mmpose_shifted = flip_heatmaps(
        hm, flip_mode='heatmap', flip_indices=perm, shift_heatmap=True)
    ours = shift_heatmaps_right(
        flip_heatmaps(hm, flip_mode='heatmap', flip_indices=perm,
                      shift_heatmap=False), 1.0)
    torch.testing.assert_close(ours, mmpose_shifted, rtol=0, atol=0)
