"""input_size_cost: the network it times at a larger input is the bundled
one with a consistent grid (F_G, reference query, heatmaps)."""
import pytest
import torch

from tests.conftest import load_script

# an experiment script (tools/experiments/README.md), loaded by path
input_size_cost = load_script('tools/experiments/input_size_cost.py',
                              'input_size_cost')


def test_the_grid_scales_with_the_input():
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    target, head, (crops, key, values) = input_size_cost.network_at(224)
    with torch.no_grad():
        fg, query = target(crops)
        heatmaps = head(fg, query, key, *values)
    assert fg.shape[-2:] == query.shape[-2:] == (14, 14)
    assert heatmaps.shape == (2, 81, 56, 56)
    assert input_size_cost.step_ms(224, runs=1) > 0


def test_sizes_off_the_feature_stride_are_refused(capsys):
    with pytest.raises(SystemExit):
        input_size_cost.main(['--sizes', '192', '200'])
    assert '--sizes [200]: expected multiples of 16' in capsys.readouterr().err
