import pytest
import torch

from rht_mmpose.models.necks import MSFFMNeck

REF_CHANNELS = (16, 8, 4)


def ref_feats(grid=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(2, c, s * grid, s * grid, generator=g, requires_grad=True)
        for s, c in zip((1, 2, 4), REF_CHANNELS)
    ]


@pytest.mark.parametrize('in_scale,fg_channels', [(1, (16, 8, 4)),
                                                  (2, (6, 6))])
def test_gradients_reach_every_scale(in_scale, fg_channels):
    """Trans-R layout (F_G at 1x) and Trans-H layout (F_G at 2x: the 1x
    features are upsampled and fused too)."""
    neck = MSFFMNeck(
        out_channels=5,
        in_scale=in_scale,
        fg_channels=fg_channels,
        ref_channels=REF_CHANNELS)
    fg = torch.randn(2, fg_channels[0], 4 * in_scale, 4 * in_scale,
                     requires_grad=True)
    soft, hard = ref_feats(seed=1), ref_feats(seed=2)
    out = neck(fg, soft, hard)
    assert out.shape == (2, 5, 16, 16)
    out.square().sum().backward()
    for t in [fg, *soft, *hard]:
        assert t.grad is not None and t.grad.abs().sum() > 0


def test_single_module_and_baseline():
    fg = torch.randn(2, 16, 4, 4)
    only_stm = MSFFMNeck(5, ref_channels=REF_CHANNELS, use_htm=False,
                         fg_channels=(16, 8, 4))
    assert only_stm(fg, soft=ref_feats()).shape == (2, 5, 16, 16)
    base = MSFFMNeck(5, with_reference=False, fg_channels=(16, 8, 4),
                     ref_channels=REF_CHANNELS)
    assert len(base.fuse_blocks) == 0
    assert base(fg).shape == (2, 5, 16, 16)


def test_bad_sizes():
    neck = MSFFMNeck(5, fg_channels=(16, 8, 4), ref_channels=REF_CHANNELS)
    soft, hard = ref_feats(), ref_feats()
    # F_G 5x5 does not match the 4x4 grid of the transformed features
    with pytest.raises(ValueError, match=r'scale 1x have shape '
                       r'\(2, 16, 4, 4\), expected \(2, 16, 5, 5\)'):
        neck(torch.randn(2, 16, 5, 5), soft, hard)
    with pytest.raises(ValueError, match=r'soft \(F_S\) features: got 2'):
        neck(torch.randn(2, 16, 4, 4), soft[:2], hard)
    with pytest.raises(ValueError, match=r'end at scale 2, expected'):
        MSFFMNeck(5, fg_channels=(16, 8), ref_channels=REF_CHANNELS)


@pytest.mark.parametrize('in_scale,fg_channels', [(1, (16, 8, 4)),
                                                  (2, (6, 6))])
def test_without_msffm_fuses_only_the_1x_scale(in_scale, fg_channels):
    """``fuse_scales=(1,)``: one fusion block; gradients reach the 1x
    transformed features and no finer ones."""
    neck = MSFFMNeck(
        out_channels=5,
        in_scale=in_scale,
        fg_channels=fg_channels,
        ref_channels=REF_CHANNELS,
        fuse_scales=(1, ))
    assert sum(len(blocks) for blocks in neck.fuse_blocks) == 1
    fg = torch.randn(2, fg_channels[0], 4 * in_scale, 4 * in_scale)
    soft, hard = ref_feats(seed=1), ref_feats(seed=2)
    neck(fg, soft, hard).square().sum().backward()
    for feats in (soft, hard):
        assert feats[0].grad is not None and feats[0].grad.abs().sum() > 0
        assert feats[1].grad is None and feats[2].grad is None
    with pytest.raises(ValueError, match=r'fuse_scales \(3,\)'):
        MSFFMNeck(5, fg_channels=(16, 8, 4), ref_channels=REF_CHANNELS,
                  fuse_scales=(3, ))


def test_fusion_kernel_size_one_is_a_per_pixel_mix():
    # RHT-R-lite's 1x1 fusion: F'_G = F_G + ReLU(BN(W @ [F_E, F_S, F_G]))
    # per pixel, checked against an einsum with the block's own weights
    torch.manual_seed(0)
    neck = MSFFMNeck(5, fg_channels=(8, 6, 4), ref_channels=(3, 2, 2),
                     fusion_kernel_size=1).eval()
    block = neck.fuse_blocks[0][0]
    assert block.conv.conv.kernel_size == (1, 1)
    fg = torch.randn(2, 8, 4, 4)
    hard, soft = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    bn = block.conv.bn
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        x = torch.cat([hard, soft, fg], dim=1)
        w = block.conv.conv.weight[:, :, 0, 0]  # (C_G, C_in)
        mixed = torch.einsum('oc,bchw->bohw', w, x)
        if block.conv.conv.bias is not None:
            mixed = mixed + block.conv.conv.bias.view(1, -1, 1, 1)
        normed = (mixed - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
            bn.running_var.view(1, -1, 1, 1) + bn.eps)
        normed = normed * bn.weight.view(1, -1, 1, 1) + bn.bias.view(
            1, -1, 1, 1)
        expected = fg + normed.clamp_min(0)
        torch.testing.assert_close(block(fg, [hard, soft]), expected)
    with pytest.raises(ValueError, match='fusion kernel_size is 2'):
        MSFFMNeck(5, fg_channels=(8, 6, 4), ref_channels=(3, 2, 2),
                  fusion_kernel_size=2)


def test_lateral_features_are_added_after_each_deconvolution():
    """Against a hand-run of the same modules: deconv, + 1x1 conv of the
    lateral at that scale, deconv, + lateral, final conv (with the
    reference fusion of every scale in between)."""
    torch.manual_seed(0)
    neck = MSFFMNeck(5, fg_channels=(16, 8, 4), ref_channels=REF_CHANNELS,
                     lateral_channels=(3, 2)).eval()
    for conv in neck.laterals:  # away from the near-zero init
        torch.nn.init.normal_(conv.weight)
        torch.nn.init.normal_(conv.bias)
    fg = torch.randn(2, 16, 4, 4)
    soft, hard = ref_feats(seed=1), ref_feats(seed=2)
    laterals = (torch.randn(2, 3, 8, 8), torch.randn(2, 2, 16, 16))
    with torch.no_grad():
        x = fg
        for i in range(3):
            x = neck.fuse_blocks[i][0](x, [hard[i], soft[i]])
            if i < 2:
                x = neck.deconvs[i](x)
                w, b = neck.laterals[i].weight, neck.laterals[i].bias
                x = x + torch.einsum('oc,bchw->bohw', w[:, :, 0, 0],
                                     laterals[i]) + b[None, :, None, None]
        expected = neck.final_layer(x)
        out = neck(fg, soft, hard, laterals)
        without = neck(fg, soft, hard, tuple(torch.zeros_like(t)
                                             for t in laterals))
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
    # the laterals change the heatmaps (beyond their biases)
    assert (out - without).abs().max() > 0.1


def test_bad_lateral_features():
    neck = MSFFMNeck(5, with_reference=False, fg_channels=(16, 8, 4),
                     lateral_channels=(3, 2))
    fg = torch.randn(2, 16, 4, 4)
    with pytest.raises(ValueError, match=r'got 1 lateral features, '
                       r'expected 2'):
        neck(fg, laterals=(torch.randn(2, 3, 8, 8), ))
    with pytest.raises(ValueError, match=r'scale 4x have shape '
                       r'\(2, 2, 8, 8\), expected \(2, 2, 16, 16\)'):
        neck(fg, laterals=(torch.randn(2, 3, 8, 8), torch.randn(2, 2, 8, 8)))
    with pytest.raises(ValueError, match=r'lateral_channels \(3,\): '
                       r'expected none or one per F_G scale'):
        MSFFMNeck(5, fg_channels=(16, 8, 4), lateral_channels=(3, ))
