import pytest
import torch

from rht_mmpose.models.utils import LocalFeatureExtractor


def test_three_scales_coarse_to_fine():
    ext = LocalFeatureExtractor(5, out_channels=(16, 8, 4), num_convs=1)
    outs = ext(torch.randn(2, 5, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 8, 8), (2, 8, 16, 16),
                                              (2, 4, 32, 32)]


def test_wrong_input_channels():
    ext = LocalFeatureExtractor(81)
    with pytest.raises(ValueError, match=r'\(1, 68, 16, 16\) has the wrong '
                       r'channels, expected \(B, 81, H, W\)'):
        ext(torch.randn(1, 68, 16, 16))
