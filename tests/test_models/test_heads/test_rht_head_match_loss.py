"""RHTHead's optional correspondence loss (match_loss_weight), checked
against a brute-force loop over hand-placed landmarks."""
import math

import pytest
import torch
from mmpose.registry import MODELS

from tests.test_models.test_pose_estimators.test_rht_pose_estimator import (
    make_samples, tiny_cfg)
from tests.test_models.test_utils.test_hard_transformer import tiny_head


def build_head(**kwargs):
    return tiny_head(num_boundaries=0, **kwargs)


def peak_maps(batch_positions, size, peak=1.0):
    """(B, K, size, size) maps, 0 except ``peak`` at each (y, x)."""
    maps = torch.zeros(len(batch_positions), len(batch_positions[0]), size,
                       size)
    for b, positions in enumerate(batch_positions):
        for m, (y, x) in enumerate(positions):
            maps[b, m, y, x] = peak
    return maps


def brute_force_patch(feat, y, x):
    """The 3x3 patch at (y, x) with zero padding, flattened channel-major
    like F.unfold, L2-normalised."""
    c, h, w = feat.shape
    vec = []
    for ch in range(c):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = y + dy, x + dx
                inside = 0 <= yy < h and 0 <= xx < w
                vec.append(float(feat[ch, yy, xx]) if inside else 0.)
    norm = math.sqrt(sum(v * v for v in vec))
    return [v / norm for v in vec]


def test_heatmap_cells_hand_built():
    maps = peak_maps([[(5, 2), (0, 7), (7, 7)]], 8)
    cells = build_head().heatmap_cells(maps, (4, 4))
    # (5, 2) -> row 2, col 1; (0, 7) -> row 0, col 3; (7, 7) -> row 3, col 3
    assert cells.tolist() == [[2 * 4 + 1, 0 * 4 + 3, 3 * 4 + 3]]


def test_match_loss_equals_brute_force():
    temperature = 0.2
    head = build_head(match_loss_weight=1., match_temperature=temperature)
    g = torch.Generator().manual_seed(0)
    query = torch.randn(2, 3, 4, 4, generator=g)
    key = torch.randn(2, 3, 4, 4, generator=g)
    # target heatmaps at 8x8 (2 px per cell), references at 16x16 (4 px)
    target_pos = [[(1, 1), (6, 3), (4, 7)], [(0, 0), (3, 5), (7, 2)]]
    ref_pos = [[(15, 0), (2, 9), (8, 8)], [(5, 5), (12, 1), (0, 15)]]
    target_hm = peak_maps(target_pos, 8)
    ref_hm = peak_maps(ref_pos, 16)
    ref_hm[1, 2] *= 0.3  # landmark 2 of sample 1 is not in the reference
    weights = torch.ones(2, 3)
    weights[0, 1] = 0  # landmark 1 of sample 0 is not visible
    loss, acc = head.match_loss(query, key, target_hm, weights, ref_hm)

    losses, hits = [], []
    for b in range(2):
        for m in range(3):
            if (b, m) in ((0, 1), (1, 2)):
                continue
            ty, tx = target_pos[b][m][0] // 2, target_pos[b][m][1] // 2
            ry, rx = ref_pos[b][m][0] // 4, ref_pos[b][m][1] // 4
            q = brute_force_patch(query[b], ty, tx)
            logits = []
            for y in range(4):
                for x in range(4):
                    k = brute_force_patch(key[b], y, x)
                    logits.append(sum(a * c for a, c in zip(q, k)) /
                                  temperature)
            log_z = math.log(sum(math.exp(v) for v in logits))
            losses.append(log_z - logits[ry * 4 + rx])
            hits.append(max(range(16), key=logits.__getitem__) ==
                        ry * 4 + rx)
    assert float(loss) == pytest.approx(sum(losses) / len(losses), rel=1e-5)
    assert float(acc) == pytest.approx(sum(hits) / len(hits))


def test_match_loss_identical_images_match_exactly():
    head = build_head(match_loss_weight=1.)
    feat = torch.randn(1, 4, 6, 6, generator=torch.Generator().manual_seed(1))
    pos = [[(0, 0), (5, 9), (11, 4)]]
    hm = peak_maps(pos, 12)
    weights = torch.ones(1, 3)
    loss_same, acc_same = head.match_loss(feat, feat, hm, weights, hm)
    # the reference shifted by a cell: the same features no longer match
    loss_shift, acc_shift = head.match_loss(
        feat, feat, hm, weights, hm.roll(2, dims=3))
    assert float(acc_same) == 1.0 and float(acc_shift) < 1.0
    assert float(loss_same) < float(loss_shift)


def test_no_valid_landmark_gives_zero_loss():
    head = build_head(match_loss_weight=1.)
    query = torch.randn(1, 3, 4, 4, requires_grad=True)
    hm = peak_maps([[(1, 1), (2, 2), (3, 3)]], 8)
    loss, acc = head.match_loss(query, query, hm, torch.zeros(1, 3), hm)
    assert float(loss) == 0. and float(acc) == 0.
    loss.backward()  # still part of the graph, no error


def test_match_loss_in_model_trains_only_the_image_extractor():
    cfg = tiny_cfg()
    cfg['head'].update(match_loss_weight=0.5)
    model = MODELS.build(cfg)
    inputs = torch.randn(2, 3, 64, 64)
    samples = make_samples(2, 25, 19, 64, 32, 32)
    losses = model.loss(inputs, samples)
    assert set(losses) == {
        'loss_kpt', 'loss_trans', 'loss_match', 'acc_match', 'acc_pose'
    }
    assert 0. <= float(losses['acc_match']) <= 1.
    losses['loss_match'].backward()
    extractor_grads = [
        p.grad for p in model.head.image_extractor.parameters()
        if p.grad is not None
    ]
    assert extractor_grads and any(g.abs().sum() > 0 for g in extractor_grads)
    # STM's index is an argmax: nothing else is upstream of Q and K
    for module in (model.backbone, model.head.heatmap_extractor,
                   model.head.neck):
        assert all(p.grad is None for p in module.parameters())

    default = MODELS.build(tiny_cfg())
    assert 'loss_match' not in default.loss(inputs, samples)


@pytest.mark.parametrize('kwargs', [
    dict(match_loss_weight=-1.),
    dict(match_temperature=0.),
])
def test_bad_match_args(kwargs):
    with pytest.raises(ValueError, match='match_'):
        build_head(**kwargs)
