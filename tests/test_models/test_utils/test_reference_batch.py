"""ReferenceBatch: what the estimator hands the head."""
import pytest
import torch

from rht_mmpose.models.utils import ReferenceBatch, ReferenceFeatures
from tests.test_models.test_utils.test_hard_transformer import (tiny_head,
                                                                 tiny_refs)


def test_flip_permutes_channels_and_keeps_only_flipped_features():
    refs = tiny_refs()
    features = ReferenceFeatures(torch.ones(2, 16, 8, 8), [torch.ones(1)])
    flipped_features = ReferenceFeatures(torch.zeros(2, 16, 8, 8),
                                         [torch.zeros(1)])
    refs.query, refs.features = torch.ones(2, 16, 8, 8), features
    perm = [1, 0, 2, 4, 3]
    out = refs.flip(perm)
    for c in range(5):  # channel c of the flip is channel perm[c], mirrored
        assert torch.equal(out.ref_heatmaps[:, c],
                           torch.flip(refs.ref_heatmaps[:, perm[c]], [-1]))
    assert torch.equal(out.ref_img, torch.flip(refs.ref_img, [-1]))
    assert torch.equal(out.target_small, torch.flip(refs.target_small, [-1]))
    # the unflipped features never describe the flipped images
    assert out.query is None and out.features is None
    refs.flipped_query = torch.zeros(2, 16, 8, 8)
    refs.flipped_features = flipped_features
    out = refs.flip(perm)
    assert out.query is refs.flipped_query
    assert out.features is flipped_features


def test_head_uses_given_features_as_its_own_extraction():
    head = tiny_head().eval()
    refs = tiny_refs()
    fg = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        plain = head.forward((fg, ), refs)
        refs.query = head.extract_query(refs.target_small)
        refs.features = head.extract_reference(refs.ref_img,
                                               refs.ref_heatmaps)
        torch.testing.assert_close(head.forward((fg, ), refs), plain)
        # features that are not the references' own change the heatmaps
        refs.features = head.extract_reference(refs.target_small,
                                               refs.ref_heatmaps)
        assert not torch.allclose(head.forward((fg, ), refs), plain)


def test_head_refuses_other_references():
    head = tiny_head().eval()
    refs = tiny_refs()
    fg = torch.randn(2, 16, 8, 8)
    with pytest.raises(ValueError, match='ReferenceBatch, got dict'):
        head.forward((fg, ), vars(refs))
    with pytest.raises(ValueError, match=r'ref_img has shape \(2, 3, 16'):
        head.forward((fg, ), ReferenceBatch(refs.target_small,
                                            refs.ref_img[..., :16, :16],
                                            refs.ref_heatmaps))
