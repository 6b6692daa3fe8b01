"""What a larger input would cost the landmark step: the bundled model's
network (random weights) for one face's crop and its flip through the
target net, then the head with one reference, at 192 (the shipped size)
and larger inputs, the grid and reference size scaled with it. PyTorch,
2 threads; each size's median over ``--runs`` steps, the sizes
interleaved twice so that a machine's drift shows.

    python tools/experiments/input_size_cost.py --sizes 192 224 256
"""
import argparse
import statistics
import time


def network_at(size: int):
    """(target net, head net, inputs of one face's step) at ``size``."""
    import torch
    from mmengine.config import Config
    from mmpose.registry import MODELS

    from rht_mmpose.apis.onnx_backend import HeadNet, TargetNet
    cfg = Config.fromfile('configs/rht_mnv2_300w.py')
    # stride 16 features and stride 4 heatmaps; the query grid of the
    # reference crop (size / 4, extractor stride 4) matches F_G's
    r = size // 4
    cfg.merge_from_dict({
        'model.head.decoder.input_size': (size, size),
        'model.head.decoder.heatmap_size': (r, r),
        'model.head.ref_size': r})
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    crops = torch.randn(2, 3, size, size)  # a face and its flip
    with torch.no_grad():
        key, values = model.head.extract_reference(
            torch.randn(2, 3, r, r),
            torch.rand(2, model.head.out_channels, r, r))
    return TargetNet(model).eval(), HeadNet(model).eval(), (crops, key,
                                                            values)


def step_ms(size: int, runs: int) -> float:
    """Median milliseconds of one face's network step at ``size``."""
    import torch
    target, head, (crops, key, values) = network_at(size)
    times = []
    with torch.no_grad():
        for i in range(runs + 3):  # 3 warm-up steps
            t0 = time.perf_counter()
            head(*target(crops), key, *values)
            if i >= 3:
                times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[192, 224, 256])
    parser.add_argument('--runs', type=int, default=30)
    args = parser.parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    import rht_mmpose  # noqa: F401 (registers the model)
    init_default_scope('mmpose')
    torch.set_num_threads(2)
    bad = [s for s in args.sizes if s % 16]
    if bad:
        parser.error(f'--sizes {bad}: expected multiples of 16 (stride-16 '
                     'features)')
    base = args.sizes[0]
    for round_ in (1, 2):
        ms = {s: step_ms(s, args.runs) for s in args.sizes}
        for s in args.sizes:
            print(f'round {round_}: {s}x{s} (grid {s // 16}x{s // 16}) '
                  f'{ms[s]:.1f} ms per face, {ms[s] / ms[base]:.2f}x {base}')


if __name__ == '__main__':
    main()
