"""RHTHead's optional coordinate loss (coord_loss_weight), checked against
hand-placed Gaussians and a brute-force centroid loop."""
import numpy as np
import pytest
import torch

from tests.test_codecs.test_heatmap_centroids import (brute_force_centroid,
                                                      gaussian)
from tests.test_models.test_utils.test_hard_transformer import tiny_head

CODEC = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(32, 32),
    heatmap_size=(16, 16),
    sigma=1.5,
    boundary_scheme=None,
    centroid_threshold=0.5)


def blob(cx, cy):
    """A 16x16 Gaussian of sigma 1.5, the codec's target shape."""
    return gaussian(16, 16, cx, cy, 1.5)


def test_coord_loss_is_the_mean_l1_of_the_decoded_points():
    head = tiny_head(num_boundaries=0, coord_loss_weight=1., decoder=CODEC)
    target_xy = [[(4.0, 5.0), (10.3, 7.6), (2.0, 12.0)],
                 [(8.0, 8.0), (3.5, 3.5), (12.0, 2.0)]]
    # predictions: a shifted Gaussian, a ridge (decoded off its landmark)
    ridge = np.zeros((16, 16))
    ridge[4:12, 9] = 1.0
    ridge[7, 9] = 1.2
    pred_maps = [[blob(5.0, 5.5), ridge, blob(2.0, 12.0)],
                 [blob(8.0, 6.0), blob(3.5, 3.5), -np.ones((16, 16))]]
    target = torch.tensor(
        np.array([[blob(x, y) for x, y in row] for row in target_xy]),
        dtype=torch.float32)
    pred = torch.tensor(np.array(pred_maps), dtype=torch.float32,
                        requires_grad=True)
    weights = torch.tensor([[1., 1., 1.], [1., 0., 1.]])
    loss = head.coord_loss(pred, target, weights)

    # brute force: landmark (1, 1) has weight 0 and (1, 2) no positive peak
    errors = []
    for b, k in [(0, 0), (0, 1), (0, 2), (1, 0)]:
        decoded = brute_force_centroid(np.array(pred_maps[b][k]), 0.5)
        truth = brute_force_centroid(target[b, k].numpy(), 0.5)
        errors += list(np.abs(decoded - truth))
    assert loss.item() == pytest.approx(np.mean(errors), rel=1e-5)
    # the ridge's decoded point (9, 7.47) is off its landmark, so the
    # loss moves it; a landmark of weight 0 gets no gradient
    loss.backward()
    assert pred.grad[0, 1].abs().sum() > 0
    assert pred.grad[1, 1].abs().sum() == 0


def test_coord_loss_reported_with_its_weight():
    head = tiny_head(num_boundaries=0, coord_loss_weight=0.5, decoder=CODEC)
    pred = torch.tensor(np.array([[blob(6.0, 6.0)] * 3]),
                        dtype=torch.float32)
    target = torch.tensor(np.array([[blob(5.0, 6.0)] * 3]),
                          dtype=torch.float32)
    weights = torch.ones(1, 3)
    # every landmark is 1 px off in x, 0 in y: mean per coordinate 0.5
    assert head.coord_loss(pred, target, weights).item() == pytest.approx(
        0.5, abs=1e-3)


@pytest.mark.parametrize('decoder',
                         [None, dict(CODEC, centroid_threshold=None)])
def test_coord_loss_needs_a_centroid_decoder(decoder):
    with pytest.raises(ValueError, match='coord_loss_weight 0.1'):
        tiny_head(num_boundaries=0, coord_loss_weight=0.1, decoder=decoder)


def test_negative_coord_loss_weight_is_refused():
    with pytest.raises(ValueError, match='coord_loss_weight -1'):
        tiny_head(num_boundaries=0, coord_loss_weight=-1., decoder=CODEC)
