import math

import pytest
import torch

from rht_mmpose.models.necks import TransHEncoder, TransREncoder
from rht_mmpose.models.necks.transpose_encoder import sine_position_encoding


def test_sine_position_encoding_values():
    pos = sine_position_encoding(2, 3, 8)  # (6, 1, 8)
    assert pos.shape == (6, 1, 8)
    # position (y=1, x=2) is row-major index 5; y is normalised by H
    y = 2 / (2 + 1e-6) * 2 * math.pi
    x = 3 / (3 + 1e-6) * 2 * math.pi
    dim_t = torch.tensor([1., 1., 100., 100.])  # 10000 ** (2*(i//2)/4)
    expect_y = [math.sin(y / dim_t[0]), math.cos(y / dim_t[1]),
                math.sin(y / dim_t[2]), math.cos(y / dim_t[3])]
    expect_x = [math.sin(x / dim_t[0]), math.cos(x / dim_t[1]),
                math.sin(x / dim_t[2]), math.cos(x / dim_t[3])]
    torch.testing.assert_close(pos[5, 0], torch.tensor(expect_y + expect_x))


def test_encoders_keep_grid_and_learn():
    enc_r = TransREncoder(in_channels=32, embed_dims=16, num_layers=2,
                          num_heads=2, feedforward_channels=24)
    x = torch.randn(2, 32, 4, 4, requires_grad=True)
    (fg, ) = enc_r((x, ))
    assert fg.shape == (2, 16, 4, 4)
    fg.sum().backward()
    assert enc_r.reduce.weight.grad.abs().sum() > 0

    enc_h = TransHEncoder(in_channels=6, embed_dims=8, num_layers=1)
    assert enc_h.layers[0].self_attn.num_heads == 1
    assert enc_h((torch.randn(2, 6, 8, 8), ))[0].shape == (2, 8, 8, 8)


def test_encoder_rejects_wrong_channels():
    with pytest.raises(ValueError, match=r'\(2, 8, 4, 4\), expected '
                       r'\(B, 512, H, W\)'):
        TransREncoder()((torch.randn(2, 8, 4, 4), ))


def test_lateral_outputs_pass_through_ahead_of_fg():
    torch.manual_seed(0)
    plain = TransREncoder(in_channels=32, embed_dims=16, num_layers=1,
                          num_heads=2, feedforward_channels=24).eval()
    lateral = TransREncoder(in_channels=32, embed_dims=16, num_layers=1,
                            num_heads=2, feedforward_channels=24,
                            lateral_indices=(1, 0)).eval()
    lateral.load_state_dict(plain.state_dict())
    fine, mid, coarse = (torch.randn(2, 4, 16, 16), torch.randn(2, 8, 8, 8),
                         torch.randn(2, 32, 4, 4))
    with torch.no_grad():
        out = lateral((fine, mid, coarse))
        (fg, ) = plain((fine, mid, coarse))
    assert len(out) == 3
    assert out[0] is mid and out[1] is fine
    torch.testing.assert_close(out[2], fg)
    with pytest.raises(ValueError, match=r'index 3 out of range: the '
                       r'backbone gives 3 outputs'):
        TransREncoder(in_channels=32, embed_dims=16, num_layers=1,
                      num_heads=2, feedforward_channels=24,
                      lateral_indices=(3, ))((fine, mid, coarse))
