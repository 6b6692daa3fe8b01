"""Cost of RHT against its baselines: parameters, FLOPs, latency,
throughput and peak memory at 256x256, plus the STM alone.

Every (model, batch size) runs in a fresh subprocess, so its peak memory
is its own (CPU: peak RSS of that process, ``ru_maxrss``; GPU:
``torch.cuda.max_memory_allocated``). The measured path is the deployed
one: ``model(inputs, data_samples, mode='predict')`` with the config's
``test_cfg`` (flip test on for every model) and, for RHT, its built-in
reference pool (``most_similar`` over ``--pool-size`` faces), so the pool
costs count. RHT's pool features are cached (the default): the cache is
filled for the whole pool before timing (``--no-prefill`` to skip), so its
memory counts too; ``rht-r-nocache`` / ``rht-h-nocache`` run without it.

FLOPs are MACs as mmengine counts them (one multiply-add = 1) of one
un-flipped forward at batch 1 (``mode='tensor'``: backbone, encoder, head;
for RHT the descriptor, the pool similarity and the reference branch).
Attention products (Q K^T and A V) that mmengine's counter does not see
(``aten::scaled_dot_product_attention`` / fused MHA) are added by hand:
``2 * N^2 * d`` MACs per encoder layer (N tokens, d model width); the
json says how many were added. RHT with the cache: the extractor MACs of
the reference image and heatmaps are not spent per forward, so they are
subtracted (``flops_cached``).

Example::

    python tools/experiments/benchmark.py --device cpu --batch-sizes 1 8 \\
        --runs 10 --warmup 2 --out work_dirs/benchmark/benchmark.json
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HRNET_CFG = ('mmpose::face_2d_keypoint/topdown_heatmap/300w/'
             'td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py')
MODELS_ALL = ('hrnetv2-w18', 'trans-r', 'rht-r', 'rht-r-lite',
              'rht-r-nocache', 'trans-h', 'rht-h', 'rht-h-nocache')
NUM_REFS = [0]  # test_cfg num_refs of the RHT models (0: the config's)
BASELINE_OF = {
    'rht-r': 'trans-r',
    'rht-r-lite': 'trans-r',
    'rht-r-nocache': 'trans-r',
    'rht-h': 'trans-h',
    'rht-h-nocache': 'trans-h',
    'hrnetv2-w18': 'trans-r',
}

# ---------------------------------------------------------------- building
def model_cfg(name: str):
    """Config of a benchmark model (all 300W: 68 landmarks)."""
    from mmengine.config import Config
    if name == 'hrnetv2-w18':
        from mmengine.hub import get_config
        cfg = get_config(HRNET_CFG)
        cfg.model.backbone.init_cfg = None
        return cfg
    # the models the real-data configs train (random init, no download)
    base = 'trans' if name.startswith('trans') else 'rht'
    arch = 'hrnet_w48' if name.split('-')[1] == 'h' else 'res50'
    lite = '_lite' if name.endswith('-lite') else ''
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'experiments',
                 f'{base}_{arch}{lite}_300w_subset.py'))
    if name.endswith('nocache'):
        cfg.model.test_cfg.cache_pool_features = False
    if NUM_REFS[0] and name.startswith('rht'):
        cfg.model.test_cfg.num_refs = NUM_REFS[0]
    return cfg


def build(name: str, device: str, pool_size: int, seed: int = 0):
    import numpy as np
    import torch
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    import rht_mmpose  # noqa: F401
    init_default_scope('mmpose')
    torch.manual_seed(seed)
    cfg = model_cfg(name)
    model = MODELS.build(cfg.model).to(device).eval()
    if getattr(model, 'with_reference', False):
        r = model.head.ref_size
        g = np.random.default_rng(seed)
        images = g.integers(0, 256, (pool_size, r, r, 3), dtype=np.uint8)
        keypoints = g.random((pool_size, model.head.num_keypoints, 2),
                             dtype=np.float32) * (r - 1)
        model.set_reference_pool(images, keypoints)
    return model


def flip_indices_300w():
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    import mmpose
    path = osp.join(
        osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_',
        'datasets', '300w.py')
    return parse_pose_metainfo(dict(from_file=path))['flip_indices']


def make_batch(batch: int, device: str, size: int = 256):
    import numpy as np
    import torch
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(batch, 3, size, size, generator=g).to(device)
    flip = flip_indices_300w()
    samples = []
    for _ in range(batch):
        ds = PoseDataSample()
        ds.gt_instances = InstanceData(
            bboxes=np.array([[0., 0., size, size]], np.float32),
            bbox_scores=np.ones(1, np.float32))
        ds.set_metainfo(
            dict(
                input_center=np.array([size / 2, size / 2], np.float32),
                input_scale=np.array([size, size], np.float32),
                input_size=(size, size),
                flip_indices=flip))
        samples.append(ds)
    return inputs, samples


# ---------------------------------------------------------------- flops
def attention_macs(model, size: int = 256) -> int:
    """Q K^T and A V of every encoder layer: 2 * N^2 * d each."""
    neck = getattr(model, 'neck', None)
    layers = getattr(neck, 'layers', None)
    if layers is None:
        return 0
    stride = 8 if model.head.in_scale == 1 else 4
    n = (size // stride)**2
    d = layers[0].self_attn.embed_dim
    return len(layers) * 2 * n * n * d


def count_flops(model, device: str) -> dict:
    """MACs of one forward (batch 1), mmengine's counter + attention."""
    import torch
    from mmengine.analysis import FlopAnalyzer
    inputs = torch.randn(1, 3, 256, 256, device=device)

    class Plain(torch.nn.Module):

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x, None, mode='tensor')

    class Branch(torch.nn.Module):
        """Reference extractors alone (what the cache saves)."""

        def __init__(self, head):
            super().__init__()
            self.head = head

        def forward(self, img, hm):
            key, values = self.head.extract_reference(img, hm)
            return [key] + list(values)

    out = {}
    with torch.no_grad():
        ana = FlopAnalyzer(Plain(model), (inputs, ))
        ana.unsupported_ops_warnings(False)
        ana.uncalled_modules_warnings(False)
        counted = ana.total()
        unsupported = dict(ana.unsupported_ops())
        out['params'] = sum(p.numel() for p in model.parameters())
        out['flops_counted'] = int(counted)
        sdpa = any('scaled_dot_product' in k or 'multi_head_attention' in k
                   or 'transformer_encoder' in k for k in unsupported)
        attn = attention_macs(model) if sdpa else 0
        out['flops_attention_added'] = int(attn)
        out['flops'] = int(counted + attn)
        out['unsupported_ops'] = {k: int(v) for k, v in unsupported.items()}
        if getattr(model, 'with_reference', False):
            # the uncached tensor path extracts: target for the descriptor,
            # target + reference for Q/K, heatmaps for V; the cached path
            # only the target, once
            r = model.head.ref_size
            img = torch.randn(1, 3, r, r, device=device)
            hm = torch.randn(1, model.head.out_channels, r, r, device=device)
            ref = FlopAnalyzer(Branch(model.head), (img, hm))
            ref.unsupported_ops_warnings(False)
            ref.uncalled_modules_warnings(False)
            ref_macs = int(ref.total())
            q_macs = int(
                FlopAnalyzer(model.head.image_extractor, (img, )).total())
            out['flops_reference_extractors'] = ref_macs
            out['flops_query_extractor'] = q_macs
            # cached: minus K/V extractors and the duplicate target pass
            out['flops_cached'] = out['flops'] - ref_macs - q_macs
    return out


# ---------------------------------------------------------------- workers
def peak_memory_mb(device: str) -> float:
    import torch
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    # Linux: ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def apply_options(model, args):
    import torch
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if args.compile:
        # compile the heavy submodules; the pool logic stays eager
        model.backbone = torch.compile(model.backbone)
        model.neck = torch.compile(model.neck)
        head = model.head
        for name in ('image_extractor', 'heatmap_extractor', 'neck'):
            if hasattr(head, name):
                setattr(head, name, torch.compile(getattr(head, name)))
        if not hasattr(head, 'image_extractor'):
            for name in ('deconv_layers', 'conv_layers', 'final_layer'):
                if hasattr(head, name):
                    setattr(head, name, torch.compile(getattr(head, name)))
    return model


def worker_model(args) -> dict:
    import torch
    torch.set_num_threads(args.threads or torch.get_num_threads())
    device = args.device
    model = build(args.worker, device, args.pool_size)
    res = dict(model=args.worker, batch=args.batch, device=device)
    if args.count_flops:
        res.update(count_flops(model, device))
    model = apply_options(model, args)
    inputs, samples = make_batch(args.batch, device)
    if args.channels_last:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    amp = torch.autocast(
        device_type='cuda' if device.startswith('cuda') else 'cpu',
        dtype=torch.float16 if device.startswith('cuda') else torch.bfloat16,
        enabled=args.amp)

    def run():
        with torch.no_grad(), amp:
            model(inputs, samples, mode='predict')
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    with torch.no_grad():
        if getattr(model, 'with_reference', False) and args.prefill \
                and model.test_cfg.get('cache_pool_features', True):
            perm = model.head.channel_flip_indices(flip_indices_300w())
            idx = torch.arange(model.pool_size)
            model.reference_pool.features(idx, inputs.dtype, inputs.device)
            if model.test_cfg.get('flip_test', False):
                model.reference_pool.features(idx, inputs.dtype,
                                              inputs.device, perm)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    run()
    res['first_call_s'] = time.perf_counter() - t0
    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    res.update(
        latency_ms=med * 1e3,
        latency_all_ms=[t * 1e3 for t in times],
        throughput_fps=args.batch / med,
        peak_memory_mb=peak_memory_mb(device),
        memory_kind='cuda max_memory_allocated' if device.startswith('cuda')
        else 'peak RSS of the process',
        pool_size=getattr(model, 'pool_size', 0),
        pool_cache_entries=len(getattr(model, '_pool_cache', {})))
    return res


def worker_paired(args) -> dict:
    """Latency ratio of a model and its baseline timed alternately in one
    process (a shared, busy CPU slows both alike)."""
    import torch
    torch.set_num_threads(args.threads or torch.get_num_threads())
    device = args.device
    names = [args.worker, BASELINE_OF[args.worker]]
    models = [
        apply_options(build(n, device, args.pool_size), args) for n in names
    ]
    inputs, samples = make_batch(args.batch, device)
    if args.channels_last:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    times = {n: [] for n in names}
    with torch.no_grad():
        for step in range(args.warmup + args.runs):
            for n, m in zip(names, models):
                t0 = time.perf_counter()
                m(inputs, samples, mode='predict')
                if device.startswith('cuda'):
                    torch.cuda.synchronize()
                if step >= args.warmup:
                    times[n].append(time.perf_counter() - t0)
    med = {n: statistics.median(t) * 1e3 for n, t in times.items()}
    return dict(
        model=names[0],
        baseline=names[1],
        batch=args.batch,
        latency_ms=med[names[0]],
        baseline_latency_ms=med[names[1]],
        paired_ratio=med[names[0]] / med[names[1]],
        runs=args.runs)


def worker_stm(args) -> dict:
    import torch
    from rht_mmpose.models.utils.soft_transformer import SoftTransformer
    torch.set_num_threads(args.threads or torch.get_num_threads())
    device = args.device
    g = args.grid
    chunk = args.chunk or None
    stm = SoftTransformer(scales=(1, 2, 4), chunk_size=chunk)
    gen = torch.Generator().manual_seed(0)
    b = args.batch
    q = torch.randn(b, 256, g, g, generator=gen).to(device)
    k = torch.randn(b, 256, g, g, generator=gen).to(device)
    values = [
        torch.randn(b, c, s * g, s * g, generator=gen).to(device)
        for c, s in ((256, 1), (128, 2), (64, 4))
    ]
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    base_mb = peak_memory_mb(device)

    def run():
        with torch.no_grad():
            stm(q, k, values)
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    n = g * g
    # the Gram formulation: (Hp*Wp)^2 per-pixel products of C channels
    # (halo rows of the chunks counted once), not N^2 * 9C
    rows = g if chunk is None else max(1, min(g, chunk // g))
    blocks = -(-g // rows)
    gram_macs = b * (g + 2 * blocks) * (g + 2) * (g + 2)**2 * 256
    return dict(
        grid=g,
        batch=b,
        chunk=chunk,
        latency_ms=statistics.median(times) * 1e3,
        peak_memory_mb=peak_memory_mb(device),
        inputs_peak_memory_mb=base_mb,
        correlation_macs=gram_macs,
        unfolded_correlation_macs=b * n * n * 256 * 9)


# ---------------------------------------------------------------- driver
def run_worker(argv) -> dict:
    cmd = [sys.executable, osp.abspath(__file__)] + argv
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    return dict(error=(proc.stderr or proc.stdout)[-2000:], argv=argv)


def common_argv(args):
    argv = [
        '--device', args.device, '--runs',
        str(args.runs), '--warmup',
        str(args.warmup), '--pool-size',
        str(args.pool_size), '--threads',
        str(args.threads), '--num-refs',
        str(args.num_refs)
    ]
    for flag in ('amp', 'channels_last', 'compile'):
        if getattr(args, flag):
            argv.append('--' + flag.replace('_', '-'))
    if not args.prefill:
        argv.append('--no-prefill')
    return argv


def fmt(v, nd=1):
    return '-' if v is None else f'{v:.{nd}f}'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    p.add_argument('--runs', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--out', default='work_dirs/benchmark/benchmark.json')
    p.add_argument(
        '--models', nargs='+', default=list(MODELS_ALL), choices=MODELS_ALL)
    p.add_argument('--amp', action='store_true',
                   help='autocast (bf16 on CPU, fp16 on GPU)')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compile', action='store_true',
                   help='torch.compile backbone, encoder and head parts')
    p.add_argument('--pool-size', type=int, default=64)
    p.add_argument('--num-refs', type=int, default=0,
                   help='RHT test_cfg num_refs (k fused references)')
    p.add_argument('--no-prefill', dest='prefill', action='store_false',
                   help='do not fill the pool cache before timing')
    p.add_argument('--threads', type=int, default=0,
                   help='torch threads (0: torch default)')
    p.add_argument('--stm-grids', type=int, nargs='*', default=[16, 32, 64])
    p.add_argument('--stm-chunk', type=int, default=256)
    p.add_argument('--no-flops', dest='flops', action='store_false')
    # worker mode (internal)
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    p.add_argument('--stm-worker', action='store_true',
                   help=argparse.SUPPRESS)
    p.add_argument('--batch', type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument('--grid', type=int, default=32, help=argparse.SUPPRESS)
    p.add_argument('--chunk', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument(
        '--count-flops', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--paired', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--no-paired', dest='run_paired', action='store_false',
                   help='skip the alternating RHT / baseline latency runs')
    args = p.parse_args()
    NUM_REFS[0] = args.num_refs

    if args.worker or args.stm_worker:
        if args.stm_worker:
            res = worker_stm(args)
        elif args.paired:
            res = worker_paired(args)
        else:
            res = worker_model(args)
        print('RESULT ' + json.dumps(res), flush=True)
        return

    results = dict(
        machine=dict(
            device=args.device,
            cpu_count=os.cpu_count(),
            python=sys.version.split()[0]),
        options=vars(args),
        models=[],
        stm=[])
    for name in args.models:
        for i, b in enumerate(args.batch_sizes):
            argv = common_argv(args) + ['--worker', name, '--batch', str(b)]
            if i == 0 and args.flops:
                argv.append('--count-flops')
            print(f'[benchmark] {name} batch {b} ...', flush=True)
            res = run_worker(argv)
            if 'error' in res:
                print(res['error'], file=sys.stderr)
            results['models'].append(res)
    # params / flops from the first row of each model
    info = {}
    for r in results['models']:
        if 'params' in r:
            info[r['model']] = r
    lat = {(r['model'], r['batch']): r.get('latency_ms')
           for r in results['models']}
    for r in results['models']:
        base = BASELINE_OF.get(r['model'])
        if base and lat.get((base, r['batch'])) and r.get('latency_ms'):
            r['latency_ratio'] = r['latency_ms'] / lat[(base, r['batch'])]
            r['ratio_vs'] = base
    results['paired'] = []
    for name in args.models:
        base = BASELINE_OF.get(name)
        if not args.run_paired or not name.startswith('rht') or \
                base not in args.models:
            continue
        print(f'[benchmark] {name} vs {base} alternating, batch 1 ...',
              flush=True)
        argv = common_argv(args) + [
            '--worker', name, '--batch', '1', '--paired'
        ]
        results['paired'].append(run_worker(argv))
    for g in args.stm_grids:
        for chunk in (0, args.stm_chunk):
            print(f'[benchmark] STM grid {g} chunk {chunk or None} ...',
                  flush=True)
            argv = common_argv(args) + [
                '--stm-worker', '--grid',
                str(g), '--chunk',
                str(chunk), '--batch', '1'
            ]
            results['stm'].append(run_worker(argv))

    # table
    lines = [
        '| model | batch | params (M) | GMACs | GMACs cached | latency (ms) '
        '| ratio | throughput (img/s) | peak mem (MB) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
    ]
    for r in results['models']:
        if 'error' in r:
            lines.append(f"| {r['argv']} | error | | | | | | | |")
            continue
        i = info.get(r['model'], {})
        ratio = r.get('latency_ratio')
        lines.append(
            f"| {r['model']} | {r['batch']} | "
            f"{fmt(i.get('params', 0) / 1e6, 2)} | "
            f"{fmt(i.get('flops', 0) / 1e9, 2)} | "
            f"{fmt(i['flops_cached'] / 1e9, 2) if 'flops_cached' in i else '-'}"
            f" | {fmt(r['latency_ms'])} | "
            f"{fmt(ratio, 2) + ' vs ' + r['ratio_vs'] if ratio else '-'} | "
            f"{fmt(r['throughput_fps'], 2)} | {fmt(r['peak_memory_mb'], 0)} |")
    lines += [
        '', '| STM grid | chunk | latency (ms) | peak mem (MB) '
        '| correlation GMACs |', '| --- | --- | --- | --- | --- |'
    ]
    for r in results['stm']:
        if 'error' in r:
            lines.append(f"| {r['argv']} | error | | | |")
            continue
        lines.append(f"| {r['grid']}x{r['grid']} | {r['chunk']} | "
                     f"{fmt(r['latency_ms'])} | "
                     f"{fmt(r['peak_memory_mb'], 0)} | "
                     f"{fmt(r['correlation_macs'] / 1e9, 2)} |")
    lines += [
        '', '| model vs baseline (alternating, batch 1) | latency (ms) '
        '| baseline (ms) | ratio |', '| --- | --- | --- | --- |'
    ]
    for r in results['paired']:
        if 'error' in r:
            lines.append(f"| {r['argv']} | error | | |")
            continue
        lines.append(f"| {r['model']} vs {r['baseline']} | "
                     f"{fmt(r['latency_ms'])} | "
                     f"{fmt(r['baseline_latency_ms'])} | "
                     f"{fmt(r['paired_ratio'], 2)} |")
    table = '\n'.join(lines)
    print(table)
    results['table_markdown'] = table
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, args.out)
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
