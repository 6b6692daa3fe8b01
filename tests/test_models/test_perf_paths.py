"""Pool feature cache of RHTPoseEstimator (ReferencePool.features): same outputs as the uncached
path, invalidated by weight / pool changes, never used in training."""
import copy

import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from .test_pose_estimators.test_rht_pose_estimator import (make_samples,
                                                           normalise,
                                                           tiny_cfg)


def pool_model(n=5, seed=0, **test_cfg):
    torch.manual_seed(seed)
    model = MODELS.build(tiny_cfg(**test_cfg)).eval()
    g = np.random.default_rng(seed)
    pool = g.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    keypoints = g.random((n, 19, 2), dtype=np.float32) * 31
    model.set_reference_pool(pool, keypoints)
    return model


def predict_heatmaps(model, inputs, cache, **test_cfg):
    model.test_cfg.update(cache_pool_features=cache, output_heatmaps=True,
                          **test_cfg)
    samples = make_samples(inputs.shape[0], 25, 19, 64, 32, 32,
                           with_refs=False)
    with torch.no_grad():
        out = model.predict(inputs, samples)
    return (torch.stack([s.pred_fields.heatmaps for s in out]),
            [s.metainfo['ref_pool_index'] for s in out])


@pytest.mark.parametrize('flip_test,num_refs', [(False, 1), (True, 1),
                                                (True, 3)])
def test_cached_equals_uncached(flip_test, num_refs):
    model = pool_model()
    inputs = torch.randn(3, 3, 64, 64)
    cfg = dict(flip_test=flip_test, num_refs=num_refs)
    plain, idx_plain = predict_heatmaps(model, inputs, False, **cfg)
    assert model.reference_pool.cache_stats == dict(hits=0, misses=0)
    cached, idx_cached = predict_heatmaps(model, inputs, True, **cfg)
    again, _ = predict_heatmaps(model, inputs, True, **cfg)
    assert idx_plain == idx_cached
    torch.testing.assert_close(cached, plain, atol=1e-5, rtol=0)
    torch.testing.assert_close(again, plain, atol=1e-5, rtol=0)
    assert model.reference_pool.cache_stats['hits'] > 0
    # one entry per (pool face used, flip)
    used = {i for row in idx_cached for i in row}
    assert len(model.reference_pool._features) == len(used) * (2 if flip_test else 1)


def test_tensor_mode_cached_equals_uncached():
    model = pool_model(ref_mode='fixed', ref_index=2)
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        model.test_cfg['cache_pool_features'] = False
        plain = model(inputs, None, mode='tensor')
        model.test_cfg['cache_pool_features'] = True
        cached = model(inputs, None, mode='tensor')
    torch.testing.assert_close(cached, plain, atol=1e-5, rtol=0)


def test_weight_change_invalidates_cache():
    model = pool_model()
    inputs = torch.randn(2, 3, 64, 64)
    predict_heatmaps(model, inputs, True, num_refs=2)
    with torch.no_grad():  # in place: same storage, new version
        for p in model.head.heatmap_extractor.parameters():
            p.mul_(1.5)
    cached, _ = predict_heatmaps(model, inputs, True, num_refs=2)
    plain, _ = predict_heatmaps(model, inputs, False, num_refs=2)
    torch.testing.assert_close(cached, plain, atol=1e-5, rtol=0)

    # a state dict load of other weights also invalidates
    other = pool_model(seed=1)
    model.load_state_dict(other.state_dict())
    cached, _ = predict_heatmaps(model, inputs, True, num_refs=2)
    ref, _ = predict_heatmaps(other, inputs, False, num_refs=2)
    torch.testing.assert_close(cached, ref, atol=1e-5, rtol=0)


def test_new_pool_invalidates_cache():
    model = pool_model()
    inputs = torch.randn(2, 3, 64, 64)
    predict_heatmaps(model, inputs, True, ref_mode='fixed', ref_index=0)
    g = np.random.default_rng(7)
    model.set_reference_pool(
        g.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8),
        g.random((4, 19, 2), dtype=np.float32) * 31)
    cached, _ = predict_heatmaps(model, inputs, True, ref_mode='fixed',
                                 ref_index=0)
    plain, _ = predict_heatmaps(model, inputs, False, ref_mode='fixed',
                                ref_index=0)
    torch.testing.assert_close(cached, plain, atol=1e-5, rtol=0)


@pytest.mark.parametrize('how', ['load_state_dict', 'in place'])
def test_new_weights_invalidate_cache(how):
    """Features cached with the old extractor weights are not used after a
    weight load or an in-place change (an optimiser step)."""
    model = pool_model()
    inputs = torch.randn(2, 3, 64, 64)
    predict_heatmaps(model, inputs, True, ref_mode='fixed', ref_index=0)
    if how == 'load_state_dict':
        model.load_state_dict({
            k: v + 0.1 if 'heatmap_extractor' in k and v.is_floating_point()
            else v for k, v in model.state_dict().items()})
    else:
        with torch.no_grad():
            for p in model.head.heatmap_extractor.parameters():
                p.add_(0.1)
    cached, _ = predict_heatmaps(model, inputs, True, ref_mode='fixed',
                                 ref_index=0)
    plain, _ = predict_heatmaps(model, inputs, False, ref_mode='fixed',
                                ref_index=0)
    # a stale cache is off by the weight change (far above this)
    torch.testing.assert_close(cached, plain, atol=1e-4, rtol=1e-5)


def test_no_cache_in_training_or_with_grad():
    model = pool_model()
    inputs = torch.randn(2, 3, 64, 64)
    samples = make_samples(2, 25, 19, 64, 32, 32, with_refs=False)
    model.train()
    model.loss(inputs, samples)
    assert len(model.reference_pool._features) == 0
    model.eval()
    model.test_cfg.update(cache_pool_features=True)
    model.predict(inputs, samples)  # grad enabled: no cache
    assert len(model.reference_pool._features) == 0
    assert not any('cache' in k for k in model.state_dict())


def test_cache_size_bound():
    model = pool_model(n=5)
    inputs = torch.randn(4, 3, 64, 64)
    model.reference_pool.cache_size = 2
    for i in range(5):
        predict_heatmaps(model, inputs, True, ref_mode='fixed', ref_index=i)
        assert len(model.reference_pool._features) <= 2
    # the descriptor from the shared Q equals global_descriptor
    img = torch.randint(0, 256, (2, 3, 32, 32))
    x = normalise(img)
    with torch.no_grad():
        torch.testing.assert_close(
            model.head.descriptor_from_query(model.head.extract_query(x)),
            model.head.global_descriptor(x))
    assert copy.deepcopy(model) is not None
