"""FaceRetrievalIndex: exact match first, agreement with brute force,
SIFT re-ranking, npz round trip."""
import numpy as np
import pytest

from rht_mmpose.datasets.sift_similarity import match_scores
from tests.conftest import load_script

# an experiment script (tools/experiments/README.md), loaded by path
retrieval_index = load_script('tools/experiments/retrieval_index.py',
                              'retrieval_index')
FaceRetrievalIndex = retrieval_index.FaceRetrievalIndex
aggregate_sift = retrieval_index.aggregate_sift
index_path_for_checkpoint = retrieval_index.index_path_for_checkpoint


def pool(n=40, d=16, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(
        np.float32)


def sift_pool(n=12, f=20, seed=0):
    g = np.random.default_rng(seed)
    desc = g.integers(0, 120, (n, f, 128)).astype(np.uint8)
    counts = g.integers(2, f + 1, n).astype(np.int32)
    for i, c in enumerate(counts):
        desc[i, c:] = 0
    return desc, counts


def test_exact_match_returns_itself_first():
    x = pool()
    index = FaceRetrievalIndex(x)
    idx, sim = index.query(x * 3.0, k=5)  # scale does not matter
    assert idx[:, 0].tolist() == list(range(len(x)))
    np.testing.assert_allclose(sim[:, 0], 1.0, atol=1e-6)
    assert (np.diff(sim, axis=1) <= 1e-7).all()  # best first


def test_agrees_with_brute_force_loop():
    x, q = pool(), pool(7, seed=1)
    idx, sim = FaceRetrievalIndex(x).query(q, k=6)
    for b in range(len(q)):
        cos = [
            float(q[b] @ x[j]) / np.linalg.norm(q[b]) / np.linalg.norm(x[j])
            for j in range(len(x))
        ]
        expected = sorted(range(len(x)), key=lambda j: (-cos[j], j))[:6]
        assert idx[b].tolist() == expected
        np.testing.assert_allclose(sim[b], [cos[j] for j in expected],
                                   atol=1e-5)


def test_ties_lower_index_first_and_k_clipped():
    x = np.array([[1., 0.], [0., 1.], [1., 0.]], np.float32)
    idx, _ = FaceRetrievalIndex(x).query(np.array([1., 0.]), k=10)
    assert idx.tolist() == [[0, 2, 1]]


def test_rerank_agrees_with_brute_force_sift():
    desc, counts = sift_pool()
    g = aggregate_sift(desc, counts)
    index = FaceRetrievalIndex(g, desc, counts)
    q = desc[3, :counts[3]]
    full = match_scores(q, desc, counts)  # brute force over the pool
    # re-ranking all candidates gives the brute-force SIFT order
    ranked = index.search(g[3:4], k=len(desc), query_sift=[q],
                          rerank_k=len(desc) + 1)
    assert full[ranked[0]].tolist() == sorted(full.tolist(), reverse=True)
    assert ranked[0, 0] == int(np.argmax(full)) == 3


def test_save_load_round_trip(tmp_path):
    desc, counts = sift_pool()
    index = FaceRetrievalIndex(
        aggregate_sift(desc, counts), desc, counts, ratio=0.7,
        meta=dict(kind='sift', pool_hash='abc'))
    path = index_path_for_checkpoint(str(tmp_path / 'model.pth'))
    assert path.endswith('model.retrieval.npz')
    index.save(path)
    back = FaceRetrievalIndex.load(path)
    np.testing.assert_array_equal(back.descriptors, index.descriptors)
    np.testing.assert_array_equal(back.sift_desc, desc)
    np.testing.assert_array_equal(back.sift_counts, counts)
    assert back.ratio == pytest.approx(0.7) and back.meta == index.meta
    q = pool(3, d=128, seed=5)
    np.testing.assert_array_equal(back.query(q, 4)[0], index.query(q, 4)[0])
    assert not list(tmp_path.glob('*.tmp*'))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match='expected \\(N, D\\)'):
        FaceRetrievalIndex(np.zeros(4))
    with pytest.raises(ValueError, match='8 dims, expected 16'):
        FaceRetrievalIndex(pool()).query(np.zeros((1, 8)))
    with pytest.raises(ValueError, match='no SIFT'):
        FaceRetrievalIndex(pool()).rerank(np.zeros((2, 128)), [0, 1])


def test_model_pool_index_beside_checkpoint(tmp_path):
    import os
    import torch
    from mmpose.registry import MODELS
    build_model_pool_index = retrieval_index.build_model_pool_index
    from tests.test_models.test_pose_estimators.test_rht_pose_estimator \
        import tiny_cfg
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).eval()
    g = np.random.default_rng(0)
    model.set_reference_pool(
        g.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8),
        g.random((4, 19, 2), dtype=np.float32) * 31)
    ckpt = str(tmp_path / 'm.pth')
    index = build_model_pool_index(model, ckpt, progress=False)
    np.testing.assert_allclose(index.descriptors,
                               model.reference_pool.descriptors.numpy(), atol=1e-6)
    assert index.sift_desc.shape == (4, 128, 128)
    path = index_path_for_checkpoint(ckpt)
    mtime = os.stat(path).st_mtime_ns
    again = build_model_pool_index(model, ckpt, progress=False)  # reused
    assert os.stat(path).st_mtime_ns == mtime
    assert again.query(index.descriptors, 1)[0].ravel().tolist() == \
        [0, 1, 2, 3]
