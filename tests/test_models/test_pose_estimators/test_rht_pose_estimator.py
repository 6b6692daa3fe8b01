import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
PREPROCESSOR = dict(
    type='PoseDataPreprocessor', mean=MEAN, std=STD, bgr_to_rgb=True)
# a valid landmark involution for the 19-point AFLW scheme (K=19, P=6)
AFLW_FLIP = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 14, 13, 12, 17, 16, 15, 18]


def tiny_cfg(with_reference=True, num_keypoints=19, num_boundaries=6,
             boundary_scheme='aflw', **test_cfg):
    """64x64 input, stride-8 ResNet -> 8x8 F_G, reference branch at 32x32,
    AFLW codec (19 landmarks + 6 boundaries) unless told otherwise."""
    return dict(
        type='RHTPoseEstimator',
        data_preprocessor=PREPROCESSOR,
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, ),
            stem_channels=8,
            base_channels=8),
        neck=dict(
            type='TransREncoder',
            in_channels=16,
            embed_dims=16,
            num_layers=1,
            num_heads=2,
            feedforward_channels=16),
        head=dict(
            type='RHTHead',
            num_keypoints=num_keypoints,
            num_boundaries=num_boundaries,
            in_channels=16,
            fg_channels=(16, 8, 4),
            ref_channels=(16, 8, 4),
            ref_size=32,
            extractor_num_convs=1,
            with_reference=with_reference,
            htm_cfg=dict(hidden_channels=(8, ), fc_channels=8),
            decoder=dict(
                type='LandmarkBoundaryHeatmap',
                input_size=(64, 64),
                heatmap_size=(32, 32),
                boundary_scheme=boundary_scheme)),
        test_cfg=dict(flip_test=False, **test_cfg))


def make_samples(batch, channels, k, size, hm_size, ref_size, seed=0,
                 with_refs=True):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        ds = PoseDataSample()
        ds.gt_fields = PixelData(
            heatmaps=torch.rand(channels, hm_size, hm_size, generator=g))
        ds.gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, k))
        ds.gt_instances = InstanceData(
            bboxes=np.array([[0., 0., size, size]], dtype=np.float32),
            bbox_scores=np.ones(1, dtype=np.float32))
        ds.set_metainfo(
            dict(
                input_center=np.array([size / 2, size / 2]),
                input_scale=np.array([size, size], dtype=np.float32),
                input_size=(size, size),
                flip_indices=AFLW_FLIP if k == 19 else list(range(k))))
        if with_refs:
            ds.ref_img = torch.randint(
                0, 256, (3, ref_size, ref_size), generator=g).float()
            ds.ref_heatmaps = torch.rand(
                channels, ref_size, ref_size, generator=g)
        samples.append(ds)
    return samples


def normalise(img_bgr):
    """(B, 3, H, W) BGR 0..255 -> what the data preprocessor gives."""
    rgb = img_bgr[:, [2, 1, 0]].float()
    return (rgb - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(
        STD).view(1, 3, 1, 1)


def test_reference_images_normalised_like_inputs():
    model = MODELS.build(tiny_cfg())
    img = torch.randint(0, 256, (2, 3, 32, 32)).float()
    torch.testing.assert_close(model.reference_pool.normalize(img), normalise(img))
    samples = make_samples(2, 25, 19, 64, 32, 32)
    inputs = torch.randn(2, 3, 64, 64)
    (refs, ) = model.get_references(inputs, samples)
    torch.testing.assert_close(
        refs.ref_img, normalise(torch.stack([s.ref_img for s in samples])))
    torch.testing.assert_close(refs.target_small,
                               F.avg_pool2d(inputs, 2))


def test_tiny_loss_and_flip_equivariance():
    model = MODELS.build(tiny_cfg())
    inputs = torch.randn(2, 3, 64, 64)
    samples = make_samples(2, 25, 19, 64, 32, 32)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_kpt', 'loss_trans', 'acc_pose'}
    (losses['loss_kpt'] + losses['loss_trans']).backward()

    # flip test is exactly flip-equivariant when the references are flipped
    # with the landmark + boundary channel permutation
    model.eval()
    model.test_cfg.update(flip_test=True, output_heatmaps=True)
    perm = model.head.channel_flip_indices(AFLW_FLIP)
    assert perm == AFLW_FLIP + [19 + i for i in [1, 0, 3, 2, 4, 5]]
    flipped = copy.deepcopy(samples)
    for s in flipped:
        s.ref_img = s.ref_img.flip(-1)
        s.ref_heatmaps = s.ref_heatmaps.flip(-1)[perm]
    with torch.no_grad():
        out = model.predict(inputs, samples)
        out_f = model.predict(inputs.flip(-1), flipped)
    for a, b in zip(out, out_f):
        hm, hm_f = a.pred_fields.heatmaps, b.pred_fields.heatmaps
        assert hm.shape == (25, 32, 32) and hm.abs().max() > 1e-2
        torch.testing.assert_close(hm, hm_f.flip(-1)[perm], atol=1e-5,
                                   rtol=1e-4)
        assert a.pred_instances.keypoints.shape == (1, 19, 2)


def test_bad_reference_heatmaps():
    model = MODELS.build(tiny_cfg())
    samples = make_samples(2, 25, 19, 64, 32, 32)
    for s in samples:
        s.ref_heatmaps = s.ref_heatmaps[:19]
    with pytest.raises(ValueError, match=r'reference heatmaps have 19 '
                       r'channels, expected 25 \(19 landmarks \+ 6'):
        model.loss(torch.randn(2, 3, 64, 64), samples)


def test_bad_input_size():
    # a 72x72 input gives a 9x9 F_G, the reference branch has an 8x8 grid
    model = MODELS.build(tiny_cfg())
    samples = make_samples(2, 25, 19, 72, 32, 32)
    with pytest.raises(ValueError, match=r'expected \(2, 16, 9, 9\) for F_G '
                       r'of 9x9'):
        model.loss(torch.randn(2, 3, 72, 72), samples)


def pool_model():
    model = MODELS.build(tiny_cfg(ref_mode='descriptor'))
    model.eval()
    g = torch.Generator().manual_seed(5)
    target = torch.randint(0, 256, (32, 32, 3), generator=g,
                           dtype=torch.uint8)
    ramp = torch.linspace(0, 255, 32).to(torch.uint8)
    pool = torch.stack([
        torch.full((32, 32, 3), 128, dtype=torch.uint8), target,
        ramp.view(1, 32, 1).expand(32, 32, 3)
    ]).numpy()
    keypoints = (torch.rand(3, 19, 2, generator=g) * 31).numpy()
    model.set_reference_pool(pool, keypoints)
    return model, target


def test_pool_descriptor_returns_the_target_itself():
    model, target = pool_model()
    # the 64x64 input whose 'area' downsample is exactly the pooled target
    img = target.permute(2, 0, 1)[None].float()
    inputs = normalise(F.interpolate(img, scale_factor=2, mode='nearest'))
    samples = make_samples(1, 25, 19, 64, 32, 32, with_refs=False)
    with torch.no_grad():
        refs = model.get_references(inputs, samples)
        out = model.predict(inputs, samples)
    assert samples[0].metainfo['ref_pool_index'] == [1]
    torch.testing.assert_close(refs[0].ref_img, normalise(img))
    torch.testing.assert_close(refs[0].ref_heatmaps,
                               model.reference_pool.heatmaps[1:2].float())
    assert out[0].pred_instances.keypoints.shape == (1, 19, 2)

    model.test_cfg.update(ref_mode='fixed', ref_index=2)
    assert model.select_references(None, 'fixed',
                                   batch_size=1).tolist() == [[2]]
    model.test_cfg.update(ref_mode='descriptor', num_refs=2)
    with torch.no_grad():
        refs = model.get_references(inputs, samples)
    assert len(refs) == 2 and samples[0].metainfo['ref_pool_index'][0] == 1


def test_pool_survives_state_dict_round_trip():
    model, _ = pool_model()
    fresh = MODELS.build(tiny_cfg())
    assert fresh.pool_size == 0
    fresh.load_state_dict(model.state_dict(), strict=True)
    assert fresh.pool_size == 3
    for name in ('images', 'keypoints', 'descriptors', 'heatmaps'):
        assert torch.equal(getattr(fresh.reference_pool, name),
                           getattr(model.reference_pool, name))
    assert fresh.reference_pool.images.dtype == torch.uint8
    assert fresh.reference_pool.heatmaps.dtype == torch.float16
    # the heatmaps are rendered, not saved: 3 tensors of the pool in the
    # state dict
    assert sorted(k for k in model.state_dict()
                  if k.startswith('reference_pool.')) == [
                      'reference_pool.descriptors', 'reference_pool.images',
                      'reference_pool.keypoints']


def test_empty_pool_and_no_refs_raises():
    model = MODELS.build(tiny_cfg())
    samples = make_samples(1, 25, 19, 64, 32, 32, with_refs=False)
    with pytest.raises(ValueError, match='reference pool is empty'):
        model.predict(torch.randn(1, 3, 64, 64), samples)


def test_baseline_needs_no_reference():
    model = MODELS.build(tiny_cfg(with_reference=False))
    assert not hasattr(model, 'reference_pool')
    assert not hasattr(model.head, 'stm')
    samples = make_samples(2, 25, 19, 64, 32, 32, with_refs=False)
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    assert set(losses) == {'loss_kpt', 'acc_pose'}


def brute_force_match_scores(query, keys):
    """Mean over target positions of the best cosine of zero-padded 3x3
    patches, by explicit unfolding (float64). query (B, C, H, W), keys
    (N, C, H, W) -> (B, N)."""
    def patches(x):  # (M, C, H, W) -> (M, H * W, 9C), unit rows
        cols = F.unfold(x.double(), kernel_size=3, padding=1)
        return F.normalize(cols.transpose(1, 2), dim=2)

    q, k = patches(query), patches(keys)
    scores = torch.zeros(query.shape[0], keys.shape[0], dtype=torch.float64)
    for b in range(q.shape[0]):
        for n in range(k.shape[0]):
            cos = q[b] @ k[n].t()  # (H * W, H * W)
            scores[b, n] = cos.max(dim=1).values.mean()
    return scores


@pytest.mark.parametrize('cached', [True, False])
def test_stm_match_scores_equal_brute_force_and_pick_the_target(cached):
    model, target = pool_model()
    model.test_cfg.update(cache_pool_features=cached)
    img = target.permute(2, 0, 1)[None].float()
    target_small = normalise(img)
    other = torch.randn(1, 3, 32, 32, generator=torch.Generator()
                        .manual_seed(3))
    batch = torch.cat([target_small, other])
    with torch.no_grad():
        query = model.head.extract_query(batch)
        keys = model.head.extract_query(
            model.reference_pool.normalize(model.reference_pool.images))
        scores = model.pool_scores(query, 'stm_match', cached)
        idx = model.select_references(query, 'stm_match', num_refs=2,
                                      cached=cached)
    expected = brute_force_match_scores(query, keys)
    torch.testing.assert_close(scores.double(), expected, atol=1e-5,
                               rtol=1e-5)
    # the target itself is in the pool (index 1): every patch has a perfect
    # counterpart
    assert abs(float(scores[0, 1]) - 1.0) < 1e-5
    assert idx[0, 0].item() == 1
    assert idx.shape == (2, 2)
    assert idx[1].tolist() == expected[1].topk(2).indices.tolist()


def test_pool_features_key_only_are_the_keys_of_the_full_features():
    """key_only (what selection reads) stacks the same keys, for the
    plain and the flipped faces, and no values."""
    model, _ = pool_model()
    pool = model.reference_pool
    index = torch.arange(len(pool)).flip(0)
    perm = list(range(model.head.num_keypoints + model.head.num_boundaries))
    for flip in (None, perm):
        full = pool.features(index, torch.float32, torch.device('cpu'), flip)
        keys = pool.features(index, torch.float32, torch.device('cpu'), flip,
                             key_only=True)
        torch.testing.assert_close(keys.key, full.key, rtol=0, atol=0)
        assert len(full.values) == 3 and list(keys.values) == []


def test_stm_match_needs_stm():
    cfg = tiny_cfg(ref_mode='stm_match')
    cfg['head']['use_stm'] = False
    model = MODELS.build(cfg).eval()
    g = torch.Generator().manual_seed(0)
    model.set_reference_pool(
        torch.randint(0, 256, (2, 32, 32, 3), generator=g,
                      dtype=torch.uint8).numpy(),
        (torch.rand(2, 19, 2, generator=g) * 31).numpy())
    with pytest.raises(ValueError, match="'stm_match' needs the head's STM"):
        with torch.no_grad():
            model.select_references(
                model.head.extract_query(torch.randn(1, 3, 32, 32)),
                'stm_match')
