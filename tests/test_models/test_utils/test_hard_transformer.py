import torch
import torch.nn.functional as F

from rht_mmpose.models.heads import RHTHead
from rht_mmpose.models.utils import (HardTransformer, ReferenceBatch,
                                     exact_affine_grid)


def test_exact_affine_grid_matches_torch():
    theta = torch.tensor([[[0.9, 0.1, 0.05], [-0.2, 1.1, 0.3]]])
    torch.testing.assert_close(
        exact_affine_grid(theta, (8, 16)),
        F.affine_grid(theta, (1, 1, 8, 16), align_corners=False),
        atol=1e-6,
        rtol=0)


def test_htm_identity_at_init():
    htm = HardTransformer(in_channels=6, hidden_channels=(8, ), fc_channels=4)
    g = torch.Generator().manual_seed(0)
    target = torch.randn(2, 6, 8, 8, generator=g)
    reference = torch.randn(2, 6, 8, 8, generator=g)
    values = [torch.randn(2, 3, s, s, generator=g) for s in (8, 16, 32)]
    warped, theta = htm(target, reference, values)
    assert torch.equal(theta, torch.tensor([[1., 0, 0], [0, 1, 0]]).expand(
        2, 2, 3))
    for v, w in zip(values, warped):
        assert torch.equal(v, w)  # exact, not approximately


def test_htm_warps_translation():
    # shift by one pixel to the right: x_norm += 2 / W
    values = [torch.arange(16.).view(1, 1, 4, 4)]
    theta = torch.tensor([[[1., 0, -0.5], [0, 1, 0]]])  # W = 4: 1 pixel
    out = HardTransformer.warp(values, theta)[0]
    expected = torch.zeros(1, 1, 4, 4)
    expected[..., 1:] = values[0][..., :-1]
    torch.testing.assert_close(out, expected)


def tiny_head(**kwargs):
    cfg = dict(
        num_keypoints=3,
        num_boundaries=2,
        in_channels=16,
        fg_channels=(16, 8, 4),
        ref_channels=(16, 8, 4),
        ref_size=32,
        extractor_num_convs=1,
        htm_cfg=dict(hidden_channels=(8, ), fc_channels=8))
    cfg.update(kwargs)
    return RHTHead(**cfg)


def tiny_refs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return ReferenceBatch(
        target_small=torch.randn(2, 3, 32, 32, generator=g),
        ref_img=torch.randn(2, 3, 32, 32, generator=g),
        ref_heatmaps=torch.rand(2, 5, 32, 32, generator=g))


def _step_on_trans_loss(head):
    head.train()
    before = {n: p.detach().clone() for n, p in head.named_parameters()}
    fg = torch.randn(2, 16, 8, 8)
    _, aux = head._forward((fg, ), tiny_refs())
    loss = head.trans_loss(aux)
    assert loss.item() > 0
    opt = torch.optim.SGD(head.parameters(), lr=1.0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {
        n
        for n, p in head.named_parameters() if not torch.equal(p, before[n])
    }


def test_trans_loss_updates_only_htm():
    changed = _step_on_trans_loss(tiny_head())
    assert {'htm.theta_fc.weight', 'htm.theta_fc.bias'} <= changed
    assert all(n.startswith('htm.') for n in changed), changed


def test_trans_loss_without_detach_reaches_extractors():
    changed = _step_on_trans_loss(tiny_head(trans_loss_detach=False))
    assert any(n.startswith('image_extractor.') for n in changed)
    assert any(n.startswith('heatmap_extractor.') for n in changed)


def test_head_init_weights_keeps_identity_start():
    head = tiny_head()
    head.init_weights()
    assert torch.equal(head.htm.theta_fc.weight,
                       torch.zeros_like(head.htm.theta_fc.weight))
    assert torch.equal(head.htm.theta_fc.bias,
                       torch.tensor([1., 0, 0, 0, 1, 0]))
