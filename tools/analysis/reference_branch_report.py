"""Does a trained RHT use its reference? NME of the same checkpoint on
test faces under five reference conditions.

- ``random_train_ref``: a random training face as the reference (as in
  training)
- ``self_oracle``: the target's own crop and ground-truth heatmaps as the
  reference. A branch that learnt to transfer the reference's landmarks
  gets far lower error here; equal error means it does not transfer
  positions (yet)
- ``branch_zeroed``: the random reference, with F_S and F_E set to zero
  before MSFFM: what the encoder alone gives through the trained fusion
- ``soft_only`` / ``hard_only``: only F_S (STM) / only F_E (HTM) kept
- ``own_pool``: the model's own reference pool, chosen by its
  ``test_cfg`` as ``tools/test.py`` chooses them (only for a checkpoint
  whose pool holds faces)

``--refined`` builds the model from the checkpoint's own config (a
bundle's ``meta['cfg']``, which declares its shape refiner) and puts every
condition's keypoints through the fitted refiner, as the shipped model's
``predict`` does: how much of each condition's gain survives refinement,
and so how far a perfect reference (``self_oracle``) could take the
shipped model. The faces still come from CONFIG.

With STM, the report also says how often STM's index is right: for each
landmark visible in both faces, whether the reference cell that STM's
argmax picks for the target's landmark cell (1x grid) is the reference's
cell of the same landmark (``exact``) or within one cell of it
(``within_one_cell``), with random references; chance is about 1 / N and
9 / N for N cells. A branch whose index is at chance moves patches from
random places, and the fusion learns to ignore it.

The backbone and encoder run once per batch and are shared by all
conditions; flip test is off unless ``--flip``. Faces are spread evenly
over the test set; the random references are drawn with ``--seed``.

Example::

    python tools/analysis/reference_branch_report.py \\
        configs/experiments/rht_res50_300w_subset.py CHECKPOINT --num-faces 40
    python tools/analysis/reference_branch_report.py \\
        configs/experiments/rht_mnv2_longer_300w2012_cpu.py \\
        checkpoints/rht_mnv2_300w.pth --num-faces 0 --flip --refined
"""
import argparse
import contextlib
import json

import numpy as np

from rht_mmpose.evaluation import face_nme

CONDITIONS = ('random_train_ref', 'self_oracle', 'branch_zeroed',
              'soft_only', 'hard_only')
OWN_POOL = 'own_pool'  # added when the model's pool holds faces
# which transformed features each condition zeroes
ZEROED = dict(branch_zeroed=('soft', 'hard'), soft_only=('hard', ),
              hard_only=('soft', ))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num-faces', type=int, default=40,
                   help='test faces, spread evenly (0: all)')
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--flip', action='store_true', help='flip test on')
    p.add_argument('--refined', action='store_true',
                   help="the model from the checkpoint's own config, every "
                   'condition through its fitted shape refiner')
    p.add_argument('--out', default=None, help='json of the results')
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


@contextlib.contextmanager
def zeroed_features(neck, which):
    """Within the block, MSFFM receives zeros for the features in
    ``which`` (``'soft'`` = F_S, ``'hard'`` = F_E)."""
    original = neck.forward

    def forward(fg, soft=None, hard=None, *laterals):
        import torch
        if 'soft' in which and soft is not None:
            soft = [torch.zeros_like(x) for x in soft]
        if 'hard' in which and hard is not None:
            hard = [torch.zeros_like(x) for x in hard]
        return original(fg, soft, hard, *laterals)

    neck.forward = forward
    try:
        yield
    finally:
        neck.forward = original


def build_datasets(cfg):
    """(test faces paired with themselves, test faces paired with the
    training pool); references are chosen here, not by the wrappers."""
    from mmpose.registry import DATASETS
    base = cfg.test_dataloader.dataset
    if base.get('type') != 'PairedReferenceDataset':
        raise SystemExit(f'{cfg.filename}: the test dataset is '
                         f'{base.get("type")}, expected a '
                         'PairedReferenceDataset (an RHT config)')
    self_cfg = base.copy()
    self_cfg.pop('ref_pool', None)
    self_cfg.update(ref_mode='random', allow_self=True)
    pool_cfg = base.copy()
    pool_cfg.update(ref_mode='random')
    return DATASETS.build(self_cfg), DATASETS.build(pool_cfg)


def evaluate(model, self_paired, train_paired, face_ids, batch_size, seed,
             flip, refined=False):
    """Per-condition lists of per-face NME_io (``refined``: after the
    model's shape refiner)."""
    import torch
    from mmengine.dataset import pseudo_collate
    head = model.head
    model.test_cfg['flip_test'] = flip
    rng = np.random.default_rng(seed)
    conditions = CONDITIONS + ((OWN_POOL, ) if len(model.reference_pool)
                               else ())
    errors = {c: [] for c in conditions}
    hits = dict(exact=[], within_one_cell=[])
    eyes = eye_corner_indices(self_paired.metainfo)
    for start in range(0, len(face_ids), batch_size):
        rows = [int(i) for i in face_ids[start:start + batch_size]]
        batch = pseudo_collate([
            self_paired.pipeline(self_paired.get_data_info(i)) for i in rows
        ])
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        random_ids = rng.integers(0, len(train_paired.pool), len(rows))
        with torch.no_grad():
            feats = model.extract_feat(inputs)
            if flip:
                feats = [feats, model.extract_feat(inputs.flip(-1))]

            def refs(get, ids):
                # references attached to the samples, turned into the head's
                # refs by the estimator as in training and tools/test.py
                with_refs = [d.clone() for d in samples]
                for d, j in zip(with_refs, ids):
                    got = get(int(j))
                    d.ref_img = got['ref_img']
                    d.ref_heatmaps = got['ref_heatmaps']
                return model.get_references(inputs, with_refs)[0]

            random_refs = refs(train_paired.get_reference, random_ids)
            self_refs = refs(self_paired.get_reference, rows)
            if getattr(head, 'use_stm', False):
                exact, near = stm_index_hits(head, random_refs,
                                             self_refs.ref_heatmaps)
                hits['exact'] += exact
                hits['within_one_cell'] += near
            for cond in conditions:
                if cond == OWN_POOL:  # samples carry no reference here
                    use = model.get_references(inputs, samples)
                else:
                    use = self_refs if cond == 'self_oracle' else random_refs
                with zeroed_features(head.neck, ZEROED.get(cond, ())):
                    preds = head.predict(
                        feats, samples, test_cfg=model.test_cfg, refs=use)
                out = model.add_pred_to_datasample(
                    preds, None, [d.clone() for d in samples])
                if refined:
                    model.refine_shapes(out)
                for d in out:
                    errors[cond].append(float(face_nme(
                        d.pred_instances.keypoints[0],
                        np.asarray(d.gt_instances.keypoints)[0],
                        eyes=[[eyes[0]], [eyes[1]]])[0]))
    return errors, hits


def stm_index_hits(head, refs, target_heatmaps):
    """Per face: share of landmarks (visible in target and reference)
    whose STM index lands on the reference's cell of the same landmark,
    exactly and within one cell.

    Args:
        head (RHTHead): with STM
        refs (ReferenceBatch): the head's references
        target_heatmaps (Tensor): the targets' own ground-truth heatmaps
            at R, (B, K + P, R, R)

    Returns:
        tuple: (exact, within_one_cell), lists of B floats (nan where no
        landmark is visible in both)
    """
    import torch
    k = head.num_keypoints
    query = head.extract_query(refs.target_small)  # (B, C, H, W)
    key = head.extract_query(refs.ref_img)
    _, index = head.stm.correlate(query, key)  # (B, N)
    h, w = query.shape[-2:]
    target_hm = target_heatmaps[:, :k]
    ref_hm = refs.ref_heatmaps[:, :k]
    target_cells = head.heatmap_cells(target_hm, (h, w))  # (B, K)
    ref_cells = head.heatmap_cells(ref_hm, (h, w))
    picked = index.gather(1, target_cells)  # (B, K) reference cells
    valid = (target_hm.flatten(2).amax(2) > 0.5) & (
        ref_hm.flatten(2).amax(2) > 0.5)
    exact = picked == ref_cells
    off_rows = (torch.div(picked, w, rounding_mode='floor') -
                torch.div(ref_cells, w, rounding_mode='floor')).abs()
    off_cols = (picked % w - ref_cells % w).abs()
    near = torch.maximum(off_rows, off_cols) <= 1
    per_face = []
    for hits in (exact, near):
        per_face.append([
            float(hits[b][valid[b]].float().mean()) if valid[b].any() else
            float('nan') for b in range(len(hits))
        ])
    return tuple(per_face)


def embedded_config(checkpoint):
    """The config text a bundle embeds (``meta['cfg']``), or None."""
    from mmengine.runner.checkpoint import _load_checkpoint
    meta = _load_checkpoint(checkpoint, map_location='cpu').get('meta')
    text = (meta or {}).get('cfg')
    return text if isinstance(text, str) and text.strip() else None


def eye_corner_indices(metainfo):
    """Outer eye corners of the keypoint scheme (NME_io's normaliser)."""
    from rht_mmpose.codecs.face_schemes import face_scheme_from_metainfo
    left, right = face_scheme_from_metainfo(metainfo)['normalisers'][
        'inter_ocular']
    return left[0], right[0]


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import rht_mmpose  # noqa: F401
    from rht_mmpose.apis import init_face_model
    from rht_mmpose.utils import atomic_write_text, check_config_paths
    init_default_scope('mmpose')
    cfg = Config.fromfile(args.config)
    cfg.load_from = None  # the weights are args.checkpoint
    check_config_paths(cfg)
    self_paired, train_paired = build_datasets(cfg)
    if args.refined and not embedded_config(args.checkpoint):
        raise SystemExit(f'--refined: {args.checkpoint} embeds no config '
                         "(meta['cfg']) to declare its shape refiner; "
                         'bundle it with tools/deployment/make_bundle.py')
    model = init_face_model(None if args.refined else args.config,
                            args.checkpoint, device=args.device).eval()
    if not getattr(model.head, 'with_reference', False):
        raise SystemExit(f'{args.checkpoint}: the model has no reference '
                         'branch (a Trans-R / Trans-H baseline?)')
    refiner = getattr(model, 'shape_refiner', None)
    if args.refined and (refiner is None or not refiner.fitted):
        raise SystemExit(f'--refined: {args.checkpoint} carries no fitted '
                         'shape refiner (make_bundle.py --shape-refiner '
                         'adds one)')
    n = len(self_paired)
    count = n if args.num_faces <= 0 else min(args.num_faces, n)
    face_ids = np.linspace(0, n - 1, count).astype(int)
    errors, hits = evaluate(model, self_paired, train_paired, face_ids,
                            args.batch_size, args.seed, args.flip,
                            args.refined)
    rows = {c: dict(nme_io=float(np.mean(e)), faces=len(e))
            for c, e in errors.items()}
    print('| reference condition | NME_io (%) | vs random_train_ref |')
    print('| --- | --- | --- |')
    base = rows['random_train_ref']['nme_io']
    for c, r in rows.items():
        diff = '-' if c == 'random_train_ref' else \
            f"{(r['nme_io'] - base) * 100:+.2f}"
        print(f"| {c} | {r['nme_io'] * 100:.2f} | {diff} |")
    stm_hits = None
    if hits['exact']:
        grid = model.head.ref_size // 4
        stm_hits = {
            name: float(np.nanmean(v))
            for name, v in hits.items()
        }
        stm_hits['chance_exact'] = 1 / grid**2
        print(f"STM index on the reference's landmark cell (random refs, "
              f"{grid}x{grid} grid): exact {stm_hits['exact'] * 100:.1f} %, "
              f"within one cell {stm_hits['within_one_cell'] * 100:.1f} % "
              f"(chance about {100 / grid**2:.1f} / "
              f"{900 / grid**2:.1f} %)")
    if args.out:
        atomic_write_text(
            json.dumps(
                dict(config=args.config, checkpoint=args.checkpoint,
                     flip=args.flip, refined=args.refined, seed=args.seed,
                     per_face=errors,
                     summary=rows, stm_index_hits=stm_hits),
                indent=1), args.out)
        print(f'saved {args.out}')
    return rows


if __name__ == '__main__':
    main()
