"""Reproduce the README's HELEN-test table from the shipped files: the
bundled default (``checkpoints/rht_res18_s_match_300w.pth``, RHT-R-S with
the correspondence loss, its own 48-face pool, 10 references averaged),
the Trans-R-S baseline of its identical-budget pair
(``checkpoints/trans_res18_s_300w.pth``) and, when installed, dlib's
68-point predictor, on the 330 HELEN test faces with the ground-truth
tight landmark box as every method's face box. Writes per-image files in
FaceNMEMetric's layout and one CED plot of all of them.

    python tools/benchmarks/helen_test.py --out-dir work_dirs/helen_test
    python tools/benchmarks/helen_test.py --num-faces 60 --no-flip   # quick look
    # reference choice and k fused references of the bundled model
    python tools/benchmarks/helen_test.py --num-faces 40 --no-flip \
        --ref-modes most_similar:1 most_similar:3 most_similar:5 fixed:1 random:1
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from rht_mmpose.utils.io import read_pts  # noqa: E402
from rht_mmpose.utils import atomic_write_text  # noqa: E402
from tools.benchmarks.dlib_helen import nme_io, nme_ip  # noqa: E402


# the baseline of the bundled model's identical-budget pair, shipped
# beside it
DEFAULT_MODELS = [
    'Trans-R-S (baseline)=' +
    osp.join(REPO, 'checkpoints', 'trans_res18_s_300w.pth')
]


def list_faces(folder: str, num_faces: int):
    stems = sorted(n[:-4] for n in os.listdir(folder) if n.endswith('.pts'))
    if num_faces:
        # evenly spread, deterministic
        idx = np.linspace(0, len(stems) - 1, num_faces).round().astype(int)
        stems = [stems[i] for i in sorted(set(idx))]
    return stems


def write_per_image(path: str, records: list) -> dict:
    """Write ``records`` with their summary in FaceNMEMetric's per-image
    layout (atomically) and return the summary."""
    summary = summarise(records)
    atomic_write_text(
        json.dumps(dict(main_norm_mode='inter_ocular', summary=summary,
                        images=records), indent=1), path)
    return summary


def summarise(records: list, thr: float = 0.1) -> dict:
    io = np.array([r['nme']['inter_ocular'] for r in records])
    ip = np.array([r['nme']['inter_pupil'] for r in records])
    return {
        'faces': len(records), 'NME_io': float(io.mean()),
        'NME_ip': float(ip.mean()), f'FR@{thr}': float((io > thr).mean()),
        f'AUC@{thr}': float(np.clip(1 - io / thr, 0, None).mean())
    }


def predict_shapes(model, stems, refine: bool = True):
    """Landmarks of faces given as path stems (``STEM.pts`` beside
    ``STEM.jpg`` or ``STEM.png``), each with its ground-truth tight box.

    Returns:
        tuple: predictions and annotations, (N, 68, 2) each
    """
    from rht_mmpose.apis import inference_faces
    preds, gts = [], []
    for stem in stems:
        gt = read_pts(stem + '.pts')
        img_path = next((stem + ext for ext in ('.jpg', '.png')
                         if osp.isfile(stem + ext)), None)
        if img_path is None:
            raise FileNotFoundError(f'no .jpg or .png beside {stem}.pts')
        box = np.concatenate([gt.min(0), gt.max(0)])[None]
        sample = inference_faces(model, cv2.imread(img_path), box,
                                 refine=refine)[0]
        preds.append(sample.pred_instances.keypoints[0])
        gts.append(gt)
    return np.stack(preds), np.stack(gts)


def nme_records(names, preds, gts) -> list:
    """Per-face records in FaceNMEMetric's per-image layout."""
    return [
        dict(img_path=name, nme=dict(inter_ocular=nme_io(p, g),
                                     inter_pupil=nme_ip(p, g)))
        for name, p, g in zip(names, preds, gts)
    ]


def run_bundled(folder, stems, flip: bool, ref_mode=None, num_refs=1,
                checkpoint=None):
    """Per-face NMEs of a self-contained checkpoint (its embedded config,
    its own pool); ``checkpoint=None`` is the bundled default."""
    from rht_mmpose.apis import init_face_model
    model = init_face_model(checkpoint=checkpoint)
    model.test_cfg['flip_test'] = flip
    if ref_mode:
        model.test_cfg['ref_mode'] = ref_mode
        model.test_cfg['num_refs'] = num_refs
    t0 = time.time()
    preds, gts = predict_shapes(model, [osp.join(folder, s) for s in stems])
    sec = (time.time() - t0) / max(len(stems), 1)
    return nme_records(stems, preds, gts), sec


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=os.environ.get('RHT_DATA_ROOT', '../shared/data'))
    parser.add_argument('--out-dir', default='work_dirs/helen_test')
    parser.add_argument('--num-faces', type=int, default=0,
                        help='evenly spread subset (0 = all 330)')
    parser.add_argument('--no-flip', action='store_true')
    parser.add_argument('--ref-modes', nargs='*', default=[],
                        help='extra rows of --ref-model as MODE:K '
                        '(ref_mode most_similar | best_match | fixed | '
                        'random, K fused references)')
    parser.add_argument(
        '--ref-model', default=None,
        help='the RHT checkpoint of the --ref-modes rows (default: the '
        'bundled one)')
    parser.add_argument(
        '--models', nargs='*', default=DEFAULT_MODELS,
        help='more self-contained checkpoints (tools/deployment/'
        'make_bundle.py) to evaluate the same way, as LABEL=PATH; '
        'default: the shipped identical-budget baseline')
    parser.add_argument('--extra', nargs='*', default=[],
                        help='more per-image files (e.g. from tools/test.py) '
                        'to put in the CED plot, as LABEL=PATH')
    args = parser.parse_args()
    folder = osp.join(args.data_root, '300w_subset', 'helen', 'testset')
    stems = list_faces(folder, args.num_faces)
    os.makedirs(args.out_dir, exist_ok=True)
    rows, files, labels = [], [], []

    # (table row, CED label, checkpoint, per-image file); None = bundled
    models = [('bundled default', 'bundled (RHT-R-S + match)', None,
               'bundled')]
    for item in args.models:
        label, ckpt = item.split('=', 1)
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'--models {item}: no file {ckpt}')
        models.append(
            (label, label, ckpt, osp.splitext(osp.basename(ckpt))[0]))
    for row, label, ckpt, name in models:
        records, sec = run_bundled(folder, stems, not args.no_flip,
                                   checkpoint=ckpt)
        path = osp.join(args.out_dir, f'{name}.per_image.json')
        rows.append((row, write_per_image(path, records), sec))
        files.append(path)
        labels.append(label)

    for item in args.ref_modes:
        mode, k = item.split(':') if ':' in item else (item, '1')
        recs, sec_k = run_bundled(folder, stems, not args.no_flip, mode,
                                  int(k), checkpoint=args.ref_model)
        path_k = osp.join(args.out_dir, f'ref_{mode}_k{k}.per_image.json')
        rows.append((f'RHT {mode} k={k}', write_per_image(path_k, recs),
                     sec_k))

    dlib_out = osp.join(args.out_dir, 'dlib.per_image.json')
    proc = subprocess.run([
        sys.executable, osp.join(REPO, 'tools', 'benchmarks',
                                 'dlib_helen.py'), '--data-root',
        args.data_root, '--out', dlib_out
    ], capture_output=True, text=True)
    if proc.returncode == 0:
        with open(dlib_out) as f:
            data = json.load(f)
        keep = [r for r in data['images']
                if osp.splitext(osp.basename(r['img_path']))[0] in set(stems)]
        rows.append(('dlib 68-point', write_per_image(dlib_out, keep),
                     float('nan')))
        files.append(dlib_out)
        labels.append('dlib')
    else:
        print('dlib skipped:', (proc.stderr or proc.stdout).strip()[-200:])
    for item in args.extra:
        label, path = item.split('=', 1)
        files.append(path)
        labels.append(label)

    print(f'HELEN test, {len(stems)} faces, GT landmark boxes')
    print(f'{"method":28s} {"NME_io":>7s} {"NME_ip":>7s} {"FR@0.1":>7s} '
          f'{"AUC@0.1":>8s} {"s/face":>7s}')
    for name, s, sec in rows:
        print(f'{name:28s} {s["NME_io"]:7.4f} {s["NME_ip"]:7.4f} '
              f'{s["FR@0.1"]:7.3f} {s["AUC@0.1"]:8.3f} {sec:7.2f}')
    ced = osp.join(args.out_dir, 'ced_helen_test.png')
    subprocess.run([
        sys.executable, osp.join(REPO, 'tools', 'analysis', 'plot_ced.py'),
        *files, '--labels', *labels, '--out', ced
    ], check=True)
    print('CED plot:', ced)


if __name__ == '__main__':
    main()
