"""Fuzz the ``.pts`` reader and the COCO converter with truncated,
reordered and non-numeric files made from a real 300W file: each case
loads with the right coordinates or raises ``PtsFormatError``; nothing
else escapes and a failed convert writes nothing."""
import glob
import os
import os.path as osp
import random
import shutil

import cv2
import numpy as np
import pytest

from rht_mmpose.datasets import PtsFormatError, convert, read_pts
from tests.conftest import expected_pts_offset, load_script

convert_main = load_script('tools/dataset_converters/pts_to_coco.py',
                           'pts_to_coco_script').main

SEED = 20240611
NON_NUMERIC = [
    'abc', '1.2.3', '--1', '+-2', '.', '1e', 'e5', 'nan', 'NaN', '-inf',
    'inf', 'Infinity', '1e999', '-1e400', '0x1A', '1_0', '\u0661\u0662',
    '\u00bd', '1,5', 'None', '[1]', '12px', '\x00', '\ufeff3', '"4"',
]
NON_FINITE = ('nan', 'NaN', '-inf', 'inf', 'Infinity', '1e999', '-1e400')


def reference_parse(text: str) -> np.ndarray:
    """Independent reading of a file that loaded: the lines between the
    first ``{`` and ``}``, two floats each."""
    lines = [ln.strip() for ln in text.split('\n') if ln.strip()]
    body = lines[lines.index('{') + 1:lines.index('}')]
    return np.array([[float(v) for v in ln.split()] for ln in body])


def mutations(text: str, rng: random.Random):
    """(name, content, must_fail) cases; content is str or bytes."""
    lines = text.split('\n')
    stripped = [ln.strip() for ln in lines]
    body = [i for i in range(stripped.index('{') + 1, stripped.index('}'))
            if stripped[i]]
    close = text.index('}')
    # truncated: anywhere before the closing brace can never load
    for _ in range(80):
        cut = rng.randrange(0, len(text))
        yield f'truncate@{cut}', text[:cut], cut <= close
    # a line dropped / duplicated
    for _ in range(30):
        i = rng.randrange(len(lines))
        line = lines[i].strip()
        drop = lines[:i] + lines[i + 1:]  # a point, n_points, a brace
        yield f'drop-line{i}', '\n'.join(drop), (
            i in body or line in ('{', '}') or line.startswith('n_points'))
        dup = lines[:i + 1] + lines[i:]  # a 69th point, a second '{'
        yield f'dup-line{i}', '\n'.join(dup), i in body or line == '{'
    # reordered: two point lines swapped (still valid, other order) or any
    # two lines swapped, or everything shuffled
    for _ in range(30):
        i, j = rng.sample(body, 2)
        swapped = list(lines)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        yield f'swap-points{i},{j}', '\n'.join(swapped), False
        i, j = rng.sample(range(len(lines)), 2)
        swapped = list(lines)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        yield f'swap-lines{i},{j}', '\n'.join(swapped), None
    for k in range(20):
        shuffled = list(lines)
        rng.shuffle(shuffled)
        yield f'shuffle{k}', '\n'.join(shuffled), None
    # non-numeric / non-finite coordinates: always rejected
    for k, bad in enumerate(NON_NUMERIC * 3):
        i = rng.choice(body)
        fields = lines[i].split()
        fields[rng.randrange(2)] = bad
        changed = list(lines)
        changed[i] = ' '.join(fields)
        yield f'value{k}={bad!r}', '\n'.join(changed), True
    # a broken header count
    for bad in ['abc', '', '67', '69', '-68', '6 8', '68.0', '\u0666\u0668']:
        yield f'n_points={bad!r}', text.replace('n_points:  68',
                                                f'n_points: {bad}'), True
    # structure: three numbers, one number, missing header, no braces,
    # garbage bytes, empty, whitespace variants that stay valid
    i = rng.choice(body)
    three = list(lines)
    three[i] += ' 1.0'
    yield 'three-numbers', '\n'.join(three), True
    one = list(lines)
    one[i] = one[i].split()[0]
    yield 'one-number', '\n'.join(one), True
    yield 'no-header', text.replace('n_points:  68', ''), True
    yield 'no-open-brace', text.replace('{', ''), True
    yield 'no-close-brace', text.replace('}', ''), True
    yield 'braces-reversed', text.replace('{', '#').replace(
        '}', '{').replace('#', '}'), True
    yield 'empty', '', True
    yield 'latin1-bytes', text.encode()[:40] + b'\xff\xfe\x80' + \
        text.encode()[40:], True
    yield 'crlf', text.replace('\n', '\r\n'), False
    yield 'tabs-and-blank-lines', text.replace(' ', '\t').replace(
        '\n', '\n\n'), False
    yield 'bom', '\ufeff' + text, False


def write(path, content):
    mode = 'wb' if isinstance(content, bytes) else 'w'
    with open(path, mode, **({} if mode == 'wb' else
                             dict(encoding='utf-8', newline=''))) as f:
        f.write(content)


@pytest.fixture(scope='module')
def real_pts(data_root):
    pts = sorted(
        glob.glob(osp.join(data_root, '300w_subset', 'afw', '*.pts')))[0]
    img = glob.glob(osp.splitext(pts)[0] + '.*g')[0]
    return pts, img


def test_fuzz_read_pts_and_convert(real_pts, tmp_path):
    src_pts, src_img = real_pts
    with open(src_pts) as f:
        text = f.read()
    assert 'n_points:  68' in text and text.count('{') == 1
    root = tmp_path / 'root'
    (root / 'face').mkdir(parents=True)
    shutil.copy(src_img, root / 'face' / ('a' + osp.splitext(src_img)[1]))
    pts = str(root / 'face' / 'a.pts')
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    # the converter stores 0-based centres of the file's 1-based points
    offset = expected_pts_offset(cv2.imread(src_img).shape)

    rng = random.Random(SEED)
    cases = list(mutations(text, rng))
    assert len(cases) > 300
    outcomes = dict(loaded=0, rejected=0)
    for k, (name, content, must_fail) in enumerate(cases):
        write(pts, content)
        try:
            points = read_pts(pts)
        except PtsFormatError as e:
            assert pts in str(e), name  # the message names the file
            assert must_fail is not False, f'{name}: valid file rejected: {e}'
            outcomes['rejected'] += 1
            points = None
        # anything else than PtsFormatError fails the test here
        if points is not None:
            assert must_fail is not True, f'{name}: loaded a bad file'
            with open(pts, encoding='utf-8') as f:
                expected = reference_parse(f.read().lstrip('\ufeff'))
            assert points.shape == (68, 2), name
            np.testing.assert_array_equal(points, expected, err_msg=name)
            outcomes['loaded'] += 1

        # the converter: same verdict, nothing written on failure
        out = str(out_dir / f'case{k}.json')
        if points is None:
            with pytest.raises(PtsFormatError, match='a.pts'):
                convert(['face'], out, str(root), progress=False)
            assert not osp.exists(out), name
        else:
            coco = convert(['face'], out, str(root), progress=False)
            kpts = np.array(coco['annotations'][0]['keypoints']).reshape(
                -1, 3)
            np.testing.assert_array_equal(kpts[:, :2], points - offset,
                                          err_msg=name)
            os.remove(out)
        assert os.listdir(out_dir) == [], f'{name}: temp file left'
    # both outcomes are well represented
    print(f'{len(cases)} cases: {outcomes}')
    assert outcomes['loaded'] >= 40 and outcomes['rejected'] >= 150, outcomes


def test_fuzz_cli_exit_code(real_pts, tmp_path, capsys):
    src_pts, src_img = real_pts
    with open(src_pts) as f:
        text = f.read()
    root = tmp_path / 'root'
    (root / 'face').mkdir(parents=True)
    shutil.copy(src_img, root / 'face' / ('a' + osp.splitext(src_img)[1]))
    pts = str(root / 'face' / 'a.pts')
    out = str(tmp_path / 'out.json')
    rng = random.Random(SEED + 1)
    cases = [c for c in mutations(text, rng) if c[2] is True]
    for name, content, _ in rng.sample(cases, 25):
        write(pts, content)
        rc = convert_main(['--root', str(root), '--folders', 'face',
                           '--out', out, '--no-progress'])
        assert rc == 1, name
        assert 'error:' in capsys.readouterr().err and not osp.exists(out)
    # the original loads through the CLI
    write(pts, text)
    assert convert_main(['--root', str(root), '--folders', 'face', '--out',
                         out, '--no-progress']) == 0
    assert osp.isfile(out)


@pytest.mark.parametrize('bad', NON_FINITE)
def test_non_finite_named(real_pts, tmp_path, bad):
    with open(real_pts[0]) as f:
        text = f.read()
    lines = text.split('\n')
    i = lines.index('{') + 5
    lines[i] = f'{bad} 1.0'
    path = str(tmp_path / 'x.pts')
    write(path, '\n'.join(lines))
    with pytest.raises(PtsFormatError, match=rf'{path}: non-'):
        read_pts(path)
