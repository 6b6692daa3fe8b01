"""tools/analysis/plot_ced.py on result files of real 300W faces."""
import glob
import json
import os.path as osp

import numpy as np
import pytest

from rht_mmpose.evaluation import FaceNMEMetric

from tests.conftest import load_script


@pytest.fixture(scope='module')
def plot_ced():
    return load_script('tools/analysis/plot_ced.py', 'plot_ced')


def read_pts(path):
    """Read a 300W .pts file -> (68, 2) float array."""
    with open(path) as f:
        lines = [ln.strip() for ln in f]
    start, end = lines.index('{') + 1, lines.index('}')
    return np.array([[float(v) for v in ln.split()]
                     for ln in lines[start:end]])


@pytest.fixture(scope='module')
def result_files(data_root, tmp_path_factory):
    """Two per-image result files: gt + small and gt + large noise."""
    pts = sorted(
        glob.glob(osp.join(data_root, '300w_subset', 'helen', 'testset',
                           '*.pts')))[:20]
    assert len(pts) == 20
    faces = [read_pts(p) for p in pts]
    out_dir = tmp_path_factory.mktemp('ced')
    rng = np.random.default_rng(0)
    files = []
    for name, sigma in (('small', 1.0), ('large', 4.0)):
        metric = FaceNMEMetric(['inter_ocular', 'inter_pupil'],
                               outfile_prefix=str(out_dir / name))
        metric.dataset_meta = dict(dataset_name='300w', num_keypoints=68)
        samples = []
        for i, (gt, p) in enumerate(zip(faces, pts)):
            pred = gt + rng.normal(0, sigma, gt.shape)
            samples.append(
                dict(pred_instances=dict(keypoints=pred[None]),
                     gt_instances=dict(keypoints=gt[None],
                                       keypoints_visible=np.ones((1, 68))),
                     img_id=i, img_path=p.replace('.pts', '.jpg')))
        metric.process([], samples)
        res = metric.compute_metrics(metric.results)
        files.append((str(out_dir / f'{name}.per_image.json'), res))
    assert files[0][1]['NME'] < files[1][1]['NME']
    return files


def test_png_of_expected_size(plot_ced, result_files, tmp_path):
    import matplotlib.image as mpimg
    out = str(tmp_path / 'ced.png')
    rc = plot_ced.main([
        result_files[0][0], result_files[1][0].replace('.json', '.csv'),
        '--labels', 'small noise', 'large noise', '--out', out,
        '--norm-mode', 'io', '--threshold', '0.1', '--size', '640', '480'
    ])
    assert rc == 0
    img = mpimg.imread(out)
    assert img.shape[:2] == (480, 640)
    assert img[..., :3].std() > 0  # something was drawn


def test_loaded_errors_match_metric(plot_ced, result_files):
    path, res = result_files[1]
    for fmt in ('.json', '.csv'):
        errors, mode = plot_ced.load_errors(path.replace('.json', fmt),
                                            'inter_pupil')
        assert mode == 'inter_pupil' and errors.shape == (20, )
        assert errors.mean() == pytest.approx(res['NME_ip'])
    errors, mode = plot_ced.load_errors(path)  # main mode by default
    assert mode == 'inter_ocular'
    assert errors.mean() == pytest.approx(res['NME'])


@pytest.mark.parametrize('content', [
    '{not json', json.dumps({'metrics': {}}),
    json.dumps({'main_norm_mode': 'inter_ocular', 'images': [{'nme': 3}]})
])
def test_malformed_file_error_names_it(plot_ced, result_files, tmp_path,
                                       capsys, content):
    bad = tmp_path / 'broken_result.json'
    bad.write_text(content)
    rc = plot_ced.main(
        [result_files[0][0], str(bad), '--out', str(tmp_path / 'x.png')])
    assert rc == 1
    err = capsys.readouterr().err
    assert str(bad) in err and 'error' in err
    assert 'Traceback' not in err
    assert not (tmp_path / 'x.png').exists()


def test_missing_file_and_bad_labels(plot_ced, result_files, tmp_path,
                                     capsys):
    missing = str(tmp_path / 'nope.json')
    assert plot_ced.main([missing, '--out', str(tmp_path / 'x.png')]) == 1
    assert missing in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        plot_ced.main([result_files[0][0], '--labels', 'a', 'b'])
    assert e.value.code == 2
