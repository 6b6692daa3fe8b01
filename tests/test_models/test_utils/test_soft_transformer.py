import pytest
import torch
import torch.nn.functional as F

from rht_mmpose.models.utils import SoftTransformer


def brute_force_correlation(q, k):
    """Loop over positions; cosine of zero-padded 3x3 patches (float64)."""
    b, _, h, w = q.shape
    qp = F.pad(q.double(), (1, 1, 1, 1))
    kp = F.pad(k.double(), (1, 1, 1, 1))
    index = torch.zeros(b, h * w, dtype=torch.long)
    conf = torch.zeros(b, h * w, dtype=torch.float64)
    for n in range(b):
        key_patches = []
        for j in range(h * w):
            yj, xj = divmod(j, w)
            v = kp[n, :, yj:yj + 3, xj:xj + 3].reshape(-1)
            key_patches.append(v / v.norm())
        for i in range(h * w):
            yi, xi = divmod(i, w)
            u = qp[n, :, yi:yi + 3, xi:xi + 3].reshape(-1)
            u = u / u.norm()
            best, best_j = -2., -1
            for j, v in enumerate(key_patches):
                c = float((u * v).sum())
                if c > best:
                    best, best_j = c, j
            index[n, i], conf[n, i] = best_j, best
    return index, conf


def brute_force_transfer(value, index, scale, grid):
    """Paste the 3s x 3s patch (stride s, padding s) of every selected
    reference position onto its target position, average overlaps."""
    b, c, hs, ws = value.shape
    h, w = grid
    s = scale
    vp = F.pad(value.double(), (s, s, s, s))
    acc = torch.zeros_like(vp)
    cnt = torch.zeros_like(vp[:, :1])
    for n in range(b):
        for i in range(h * w):
            yi, xi = divmod(i, w)
            yj, xj = divmod(int(index[n, i]), w)
            acc[n, :, s * yi:s * yi + 3 * s, s * xi:s * xi + 3 * s] += \
                vp[n, :, s * yj:s * yj + 3 * s, s * xj:s * xj + 3 * s]
            cnt[n, :, s * yi:s * yi + 3 * s, s * xi:s * xi + 3 * s] += 1
    return (acc / cnt)[:, :, s:s + hs, s:s + ws]


def make_inputs(b=2, c=4, h=6, w=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, c, h, w, generator=g)
    k = torch.randn(b, c, h, w, generator=g)
    values = [
        torch.randn(b, ch, s * h, s * w, generator=g)
        for s, ch in zip((1, 2, 4), (4, 3, 2))
    ]
    return q, k, values


def test_stm_matches_brute_force():
    q, k, values = make_inputs()
    stm = SoftTransformer()
    soft, conf, index = stm(q, k, values)
    ref_index, ref_conf = brute_force_correlation(q, k)
    assert torch.equal(index, ref_index)
    assert conf.shape == (2, 1, 6, 6)
    torch.testing.assert_close(
        conf.flatten(1).double(), ref_conf, atol=1e-5, rtol=0)
    transferred = stm.transfer(values, index, (6, 6))
    for s, value, out, f_t_stm in zip((1, 2, 4), values, soft, transferred):
        f_t = brute_force_transfer(value, ref_index, s, (6, 6))
        a = F.interpolate(
            ref_conf.view(2, 1, 6, 6),
            scale_factor=s,
            mode='bilinear',
            align_corners=False)
        assert out.shape == value.shape
        # the transfer alone, then F_S = F_T * A
        torch.testing.assert_close(f_t_stm.double(), f_t, atol=1e-5, rtol=0)
        torch.testing.assert_close(out.double(), f_t * a, atol=1e-5, rtol=0)


@pytest.mark.parametrize('grid', [(5, 7), (1, 1), (2, 3)])
def test_stm_transfer_paths_agree_with_brute_force(grid):
    # embedding_bag path (default) and the gather path ONNX export takes,
    # both against the patch-pasting loop, on non-square and tiny grids;
    # gradients of the two paths wrt the values agree too
    h, w = grid
    g = torch.Generator().manual_seed(4)
    values = [
        torch.randn(2, ch, s * h, s * w, generator=g,
                    dtype=torch.float64).requires_grad_()
        for s, ch in zip((1, 2, 4), (3, 2, 2))
    ]
    index = torch.randint(0, h * w, (2, h * w), generator=g)
    stm = SoftTransformer()
    by_bag = stm.transfer(values, index, grid)
    by_gather = stm.transfer_by_gather(values, index, grid)
    for s, value, a, b in zip((1, 2, 4), values, by_bag, by_gather):
        f_t = brute_force_transfer(value.detach(), index, s, grid)
        torch.testing.assert_close(a, f_t, atol=1e-12, rtol=0)
        torch.testing.assert_close(b, f_t, atol=1e-12, rtol=0)
    weights = [torch.rand(v.shape, generator=g, dtype=torch.float64)
               for v in values]
    grads_bag = torch.autograd.grad(
        sum((o * wt).sum() for o, wt in zip(by_bag, weights)), values)
    grads_gather = torch.autograd.grad(
        sum((o * wt).sum() for o, wt in zip(by_gather, weights)), values)
    for a, b in zip(grads_bag, grads_gather):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_match_confidence_is_the_mean_brute_force_confidence_of_each_pair():
    """(B, M): for target b and reference m, the mean over target
    positions of the best patch cosine, by the position loop above on
    every pair (non-square grid, three references)."""
    g = torch.Generator().manual_seed(3)
    q = torch.randn(2, 4, 5, 7, generator=g)
    keys = torch.randn(3, 4, 5, 7, generator=g)
    got = SoftTransformer().match_confidence(q, keys)
    assert got.shape == (2, 3)
    for b in range(2):
        for m in range(3):
            _, conf = brute_force_correlation(q[b:b + 1], keys[m:m + 1])
            assert abs(float(got[b, m]) - float(conf.mean())) < 1e-5
    # a target scores its own features highest (every patch cosine 1)
    own = SoftTransformer().match_confidence(keys, keys)
    assert torch.equal(own.argmax(dim=1), torch.arange(3))
    assert torch.allclose(own.diagonal(), torch.ones(3), atol=1e-5)
    with pytest.raises(ValueError, match='same C, H, W'):
        SoftTransformer().match_confidence(q, keys[:, :2])


def test_stm_reference_equals_target_is_identity():
    q, _, values = make_inputs(h=8, w=8, seed=1)
    stm = SoftTransformer()
    _, conf, index = stm(q, q.clone(), values)
    assert torch.equal(index, torch.arange(64).expand(2, -1))
    torch.testing.assert_close(conf, torch.ones_like(conf))
    f_t = stm.transfer(values, index, (8, 8))
    # every pixel is covered by patches that all carry its own value
    for value, out in zip(values, f_t):
        torch.testing.assert_close(out, value, atol=1e-6, rtol=0)


@pytest.mark.parametrize('chunk_size', [7, 35, 1000])
def test_stm_chunked_equals_unchunked(chunk_size):
    # row blocks of 1 (7 < W), 3 (10 = 3 + 3 + 3 + 1) and all 10 rows
    q, k, values = make_inputs(h=10, w=10, seed=2)
    full = SoftTransformer()(q, k, values)
    chunked = SoftTransformer(chunk_size=chunk_size)(q, k, values)
    ref_index, ref_conf = brute_force_correlation(q, k)
    assert torch.equal(chunked[2], ref_index)
    torch.testing.assert_close(
        chunked[1].flatten(1).double(), ref_conf, atol=1e-5, rtol=0)
    assert torch.equal(full[2], chunked[2])
    torch.testing.assert_close(full[1], chunked[1], atol=1e-6, rtol=0)
    for a, b in zip(full[0], chunked[0]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_stm_chunked_large_grid():
    # 64x64 grid, batch 8: the full matrix would be 8 * 4096^2 floats
    g = torch.Generator().manual_seed(3)
    q = torch.randn(8, 4, 64, 64, generator=g)
    conf, index = SoftTransformer(chunk_size=512).correlate(q, q)
    assert torch.equal(index, torch.arange(64 * 64).expand(8, -1))
    assert conf.shape == (8, 64 * 64)


def test_stm_bad_inputs():
    q, k, values = make_inputs()
    with pytest.raises(ValueError, match=r'chunk_size is 0'):
        SoftTransformer(chunk_size=0)
    bad = [values[0], values[1][..., :10, :10], values[2]]
    with pytest.raises(
            ValueError, match=r'scale 2x have shape \(2, 3, 10, 10\), '
            r'expected \(B=2, C, 12, 12\)'):
        SoftTransformer()(q, k, bad)
    with pytest.raises(ValueError, match=r'got 2 value feature maps'):
        SoftTransformer()(q, k, values[:2])
    with pytest.raises(ValueError, match=r'same shape'):
        SoftTransformer()(q, k[:, :3], values)
