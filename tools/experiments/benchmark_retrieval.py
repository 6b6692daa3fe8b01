"""Reference retrieval: global-descriptor index (+ SIFT re-ranking of the
top candidates) against brute-force SIFT matching; query time at pool
sizes ~1k (the 1207 real training faces) and 10k, and the NME of RHT-R on
HELEN test with each, plus multi-reference fusion (k = 1, 3, 5).

The 10k pool: computing SIFT for 10k augmented crops is too slow on a
shared 2-core CPU, so it is made by replicating the 1207 faces' SIFT
descriptors with small integer noise (+-``--noise``, clipped to 0..255);
query cost depends only on the number of descriptors, which is the same as
for real faces. Its copies have no images of their own: for the NME, a
copy chosen by the 10k index stands for the face it was copied from.

Global descriptor: aggregated RootSIFT (mean of the RootSIFT vectors of a
face, :func:`retrieval_index.aggregate_sift`), 128-d; the SIFT
descriptors of the 1207 + 330 faces come from
:class:`SiftFaceIndex`'s cache (``work_dirs/rht_cache``), so every method
starts from the same per-face descriptors and only the matching differs.

NME: inter-ocular (landmarks 36 / 45), per image mean of point errors in
original image pixels, averaged over the evaluated faces; the references
are rendered by :class:`PairedReferenceDataset`'s reference pipeline
(as in ``tools/test.py``); backbone + encoder features are computed once
per batch and shared by every reference choice.

Example::

    python tools/experiments/benchmark_retrieval.py \\
        --checkpoint work_dirs/gpu_results/rht_res50_300w_subset.pth \\
        --num-test 40 --out work_dirs/benchmark/retrieval.json
"""
import argparse
import json
import os
import os.path as osp
import statistics
import time

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def timed(fn, *args, repeat=1):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def build_data(cfg_path: str, cache_dir: str):
    from mmengine.config import Config
    from mmpose.registry import DATASETS
    cfg = Config.fromfile(cfg_path)
    ds_cfg = cfg.test_dataloader.dataset.copy()
    ds_cfg.ref_mode = 'random'  # choices are made here, not by the wrapper
    ds_cfg.cache_dir = cache_dir
    ds_cfg.dataset.cache_dir = cache_dir
    ds_cfg.ref_pool.cache_dir = cache_dir
    paired = DATASETS.build(ds_cfg)
    return cfg, paired


def perturbed_pool(desc, counts, n_total, noise, seed=0):
    """(n_total, F, 128) copies of the real descriptors with +-noise."""
    g = np.random.default_rng(seed)
    reps = int(np.ceil(n_total / len(desc)))
    big = np.concatenate([desc] * reps)[:n_total].astype(np.int16)
    big_counts = np.concatenate([counts] * reps)[:n_total]
    big[len(desc):] += g.integers(
        -noise, noise + 1, big[len(desc):].shape).astype(np.int16)
    big = np.clip(big, 0, 255).astype(np.uint8)
    valid = np.arange(desc.shape[1])[None] < big_counts[:, None]
    big[~valid] = 0
    return big, big_counts


def brute_force(query_desc, query_counts, pool_desc, pool_counts, qidx):
    from rht_mmpose.datasets.sift_similarity import match_scores
    return np.stack([
        match_scores(query_desc[i, :query_counts[i]], pool_desc,
                     pool_counts) for i in qidx
    ])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument(
        '--config',
        default=osp.join(REPO, 'configs', 'experiments', 'rht_res50_300w_subset.py'))
    p.add_argument(
        '--checkpoint',
        default=osp.join(REPO, 'work_dirs', 'gpu_results',
                         'rht_res50_300w_subset.pth'))
    p.add_argument('--cache-dir', default='work_dirs/rht_cache')
    p.add_argument('--index-out', default=None,
                   help='npz of the 1k index (default: beside the '
                   'checkpoint, <ckpt>.retrieval.npz)')
    p.add_argument('--num-test', type=int, default=40,
                   help='HELEN test faces for the NME (first N; 0 = all 330)')
    p.add_argument('--timing-queries', type=int, default=20)
    p.add_argument('--timing-queries-10k', type=int, default=4)
    p.add_argument('--big-pool', type=int, default=10000)
    p.add_argument('--noise', type=int, default=3)
    p.add_argument('--rerank-k', type=int, default=32)
    p.add_argument('--ks', type=int, nargs='+', default=[1, 3, 5])
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--flip-test', action='store_true',
                   help='flip test (the config default; off here for CPU '
                   'time)')
    p.add_argument('--no-nme', dest='nme', action='store_false')
    p.add_argument('--out', default='work_dirs/benchmark/retrieval.json')
    args = p.parse_args()

    import torch
    from mmengine.registry import init_default_scope
    import rht_mmpose  # noqa: F401
    from rht_mmpose.datasets.sift_similarity import SiftFaceIndex
    # a sibling script: Python finds it beside this one when run as a script
    from retrieval_index import (FaceRetrievalIndex, aggregate_sift,
                                      index_path_for_checkpoint)
    init_default_scope('mmpose')

    cfg, paired = build_data(args.config, args.cache_dir)
    sift = SiftFaceIndex(cache_dir=args.cache_dir)
    pdesc, pcounts = sift.descriptors(paired.pool)
    tdesc, tcounts = sift.descriptors(paired.dataset)
    n_test = len(paired.dataset) if args.num_test <= 0 else min(
        args.num_test, len(paired.dataset))
    res = dict(
        machine=f'CPU, {os.cpu_count()} cores (shared)',
        pool_size=len(pdesc),
        test_faces=n_test,
        rerank_k=args.rerank_k,
        flip_test=args.flip_test,
        pools={})

    # ------------------------------------------------------------ index
    t0 = time.perf_counter()
    index = FaceRetrievalIndex(
        aggregate_sift(pdesc, pcounts), pdesc, pcounts,
        meta=dict(kind='aggregated_rootsift', pool=str(len(pdesc))))
    res['index_build_s'] = time.perf_counter() - t0
    index_path = args.index_out or index_path_for_checkpoint(
        args.checkpoint)
    index.save(index_path)
    res['index_path'] = index_path
    tglob = aggregate_sift(tdesc, tcounts)

    # ------------------------------------------------------------ timing
    pools = {'1k': (pdesc, pcounts)}
    if args.big_pool:
        pools['10k'] = perturbed_pool(pdesc, pcounts, args.big_pool,
                                      args.noise)
    choices = {}
    big_index = None
    for name, (pd, pc) in pools.items():
        nq = args.timing_queries if name == '1k' else \
            args.timing_queries_10k
        qidx = np.arange(min(nq, len(tdesc)))
        idx_big = index if name == '1k' else FaceRetrievalIndex(
            aggregate_sift(pd, pc), pd, pc)
        print(f'[retrieval] {name}: brute force on {len(qidx)} queries',
              flush=True)
        scores, t_bf = timed(brute_force, tdesc, tcounts, pd, pc, qidx)
        bf_top = scores.argmax(1)
        (knn, _), t_nn = timed(idx_big.query, tglob[qidx], 1, repeat=3)
        t0 = time.perf_counter()
        rr = idx_big.search(
            tglob[qidx], 1,
            query_sift=[tdesc[i, :tcounts[i]] for i in qidx],
            rerank_k=args.rerank_k)
        t_rr = time.perf_counter() - t0
        best = scores.max(1).astype(np.float64)

        def quality(top):
            got = scores[np.arange(len(qidx)), top[:, 0] if top.ndim > 1
                         else top]
            return dict(
                top1_agreement=float((got == best).mean()),
                score_ratio=float((got / np.maximum(best, 1)).mean()))

        res['pools'][name] = dict(
            pool=len(pd),
            queries=len(qidx),
            synthetic=name != '1k',
            brute_force_ms_per_query=t_bf / len(qidx) * 1e3,
            index_ms_per_query=t_nn / len(qidx) * 1e3,
            index_rerank_ms_per_query=t_rr / len(qidx) * 1e3,
            speedup_index=t_bf / max(t_nn, 1e-9),
            speedup_index_rerank=t_bf / max(t_rr, 1e-9),
            index=quality(knn),
            index_rerank=quality(rr))
        if name == '1k':
            choices['timing_bf'] = bf_top
        else:
            big_index = idx_big
        print(json.dumps(res['pools'][name], indent=1), flush=True)

    # ------------------------------------------------------------ NME
    if args.nme:
        res['nme'] = evaluate_nme(args, cfg, paired, index, tglob, tdesc,
                                  tcounts, pdesc, pcounts, n_test,
                                  big_index)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out + '.tmp', 'w') as f:
        json.dump(res, f, indent=1)
    os.replace(args.out + '.tmp', args.out)
    print(json.dumps(res, indent=1))



def evaluate_nme(args, cfg, paired, index, tglob, tdesc, tcounts, pdesc,
                 pcounts, n_test, big_index=None):
    import torch
    from mmengine.dataset import pseudo_collate
    from rht_mmpose.apis import init_face_model
    model = init_face_model(args.config, args.checkpoint,
                            device='cpu').eval()
    model.test_cfg['flip_test'] = args.flip_test
    q = np.arange(n_test)
    print(f'[retrieval] choosing references for {n_test} test faces',
          flush=True)
    bf = brute_force(tdesc, tcounts, pdesc, pcounts, q).argmax(1)
    kmax = max(args.ks)
    idx_nn = index.query(tglob[q], kmax)[0]
    idx_rr = index.search(
        tglob[q], kmax, query_sift=[tdesc[i, :tcounts[i]] for i in q],
        rerank_k=args.rerank_k)
    methods = {'brute_force_sift': bf[:, None], 'index': idx_nn[:, :1],
               'index_rerank': idx_rr[:, :1]}
    for k in args.ks:
        if k > 1:
            methods[f'index_rerank_k{k}'] = idx_rr[:, :k]
    if big_index is not None:
        # copy m of the 10k pool is a noisy copy of real face m % 1207
        n_real = len(pdesc)
        methods['index_10k'] = big_index.query(tglob[q], 1)[0] % n_real
        methods['index_rerank_10k'] = big_index.search(
            tglob[q], 1, query_sift=[tdesc[i, :tcounts[i]] for i in q],
            rerank_k=args.rerank_k) % n_real
    errors = {m: [] for m in methods}
    head_time = {m: 0. for m in methods}
    ref_cache = {}

    def ref(j):
        if j not in ref_cache:
            r = paired.get_reference(int(j))
            ref_cache[j] = (r['ref_img'], r['ref_heatmaps'])
        return ref_cache[j]

    for s in range(0, n_test, args.batch_size):
        rows = list(range(s, min(s + args.batch_size, n_test)))
        batch = pseudo_collate(
            [paired.pipeline(paired.get_data_info(i)) for i in rows])
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        with torch.no_grad():
            feats = model.extract_feat(inputs)
            feats_flip = model.extract_feat(inputs.flip(-1)) \
                if args.flip_test else None
            for m, sel in methods.items():
                refs = []
                for j in range(sel.shape[1]):
                    # the j-th references attached to the samples, turned
                    # into the head's refs by the estimator
                    with_refs = [d.clone() for d in samples]
                    for d, i in zip(with_refs, rows):
                        d.ref_img, d.ref_heatmaps = ref(sel[i, j])
                    refs += model.get_references(inputs, with_refs)
                t0 = time.perf_counter()
                preds = model.head.predict(
                    [feats, feats_flip] if args.flip_test else feats,
                    samples, test_cfg=model.test_cfg, refs=refs)
                head_time[m] += time.perf_counter() - t0
                out = model.add_pred_to_datasample(preds, None,
                                                   [d.clone()
                                                    for d in samples])
                for d in out:
                    pred = d.pred_instances.keypoints[0]
                    gt = np.asarray(d.gt_instances.keypoints)[0]
                    norm = np.linalg.norm(gt[36] - gt[45])
                    errors[m].append(
                        float(np.linalg.norm(pred - gt, axis=1).mean() /
                              norm))
        print(f'[retrieval] NME {rows[-1] + 1}/{n_test}: ' + ', '.join(
            f'{m} {np.mean(e) * 100:.2f}' for m, e in errors.items()),
              flush=True)
    return {
        m: dict(
            nme_percent=float(np.mean(e) * 100),
            head_ms_per_face=head_time[m] / n_test * 1e3,
            faces=len(e),
            agreement_with_brute_force_top1=float(
                (methods[m][:, 0] == bf).mean()))
        for m, e in errors.items()
    }


if __name__ == '__main__':
    main()
