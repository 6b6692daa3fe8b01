"""demo/face_demo.py: real photos, folders, videos, json, bad input."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import REPO_ROOT, load_script
from tests.test_apis.small_model import SMOKE_CONFIG, save_small_checkpoint

DEMO = osp.join(REPO_ROOT, 'demo', 'face_demo.py')


def _load_demo():
    return load_script(osp.relpath(DEMO, REPO_ROOT), 'face_demo')


face_demo = _load_demo()


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    return save_small_checkpoint(
        str(tmp_path_factory.mktemp('demo_model') / 'small.pth'))


@pytest.fixture(scope='module')
def demo_obj(ckpt, tmp_path_factory):
    """The options, landmarker and drawer of a run with the heatmap
    panel."""
    args = face_demo.parse_args([
        'unused', '--checkpoint', ckpt, '--save-json', '--show-boundaries',
        '--show-heatmaps'
    ])
    return (args, *face_demo.build(args))


def new_stats():
    return dict(frames=0, faces=0, no_face=0, failed=0, seconds=0.)


def _run(argv, capsys):
    code = face_demo.main(argv)
    out, err = capsys.readouterr()
    assert 'Traceback' not in out + err
    return code, out, err


def _check_json(path, faces):
    with open(path) as f:
        data = json.load(f)
    assert set(data) == {'meta_info', 'instance_info'}
    assert data['meta_info']['num_keypoints'] == 68
    inst = data['instance_info']
    assert len(inst) == len(faces)
    for rec, face in zip(inst, faces):
        np.testing.assert_allclose(rec['keypoints'], face['keypoints'],
                                   atol=1e-4)
        np.testing.assert_allclose(rec['keypoint_scores'],
                                   face['keypoint_scores'], atol=1e-5)
        np.testing.assert_allclose(rec['bbox'][0], face['box'], atol=1e-3)


@pytest.mark.parametrize('name,num_faces', [('astronaut.png', 1),
                                            ('t1.jpg', 6)])
def test_real_photos_give_images_and_round_tripping_json(
        name, num_faces, demo_obj, data_root, tmp_path):
    src = osp.join(data_root, 'demo_images', name)
    args, landmarker, drawer = demo_obj
    args.out_dir = str(tmp_path)
    face_demo.run_images(args, [src], landmarker, drawer, new_stats())
    faces = landmarker(src)
    assert len(faces) == num_faces
    out_img = cv2.imread(str(tmp_path / name))
    ref = cv2.imread(src)
    # landmarks + heatmap panel side by side
    assert out_img.shape[0] == ref.shape[0]
    assert out_img.shape[1] == 2 * ref.shape[1]
    assert (out_img[:, :ref.shape[1]].astype(int) - ref).any()
    stem = osp.splitext(name)[0]
    _check_json(str(tmp_path / f'results_{stem}.json'), faces)
    assert sorted(os.listdir(tmp_path)) == sorted(
        [name, f'results_{stem}.json'])  # no temporary files left


def test_cli_single_image_prints_output_and_summary(ckpt, data_root,
                                                    tmp_path, capsys):
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    code, out, _ = _run(
        [src, '--out-dir', str(tmp_path), '--checkpoint', ckpt], capsys)
    assert code == 0
    assert f'annotated image: {tmp_path / "astronaut.png"}' in out
    assert 'summary: 1 faces in 1 images' in out and 's per face' in out
    assert osp.isfile(tmp_path / 'astronaut.png')


def test_folder_with_grey_rgba_16bit_and_a_non_image(
        ckpt, data_root, tmp_path, capsys):
    img = cv2.imread(osp.join(data_root, 'demo_images', 'astronaut.png'))
    folder = tmp_path / 'in'
    folder.mkdir()
    cv2.imwrite(str(folder / 'grey.png'), cv2.cvtColor(img,
                                                       cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / 'rgba.png'), cv2.cvtColor(img,
                                                       cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(folder / 'wide.png'), img.astype(np.uint16) * 257)
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8 not really')
    (folder / 'readme.txt').write_text('not an image')
    out_dir = tmp_path / 'out'
    code, out, err = _run([
        str(folder), '--out-dir',
        str(out_dir), '--checkpoint', ckpt, '--save-json'
    ], capsys)
    assert code == 0, err
    assert 'skipped' in out and 'broken.jpg' in out
    assert 'summary: 3 faces in 3 images' in out
    assert sorted(os.listdir(out_dir)) == [
        'grey.png', 'results_grey.json', 'results_rgba.json',
        'results_wide.json', 'rgba.png', 'wide.png'
    ]


def write_clip(path, data_root, frames=5, fourcc='mp4v'):
    """The astronaut photo, moved 2 px right per frame."""
    img = cv2.imread(osp.join(data_root, 'demo_images', 'astronaut.png'))
    img = img[:320, 60:380]  # her face, full size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10,
                             (img.shape[1], img.shape[0]))
    for i in range(frames):
        writer.write(np.roll(img, 2 * i, axis=1))
    writer.release()
    return str(path)


def test_video_tracked_with_json_per_frame(data_root, tmp_path, capsys):
    """The bundled model on a 4-frame clip: the video, a json entry per
    frame with the face's track id, the fps line."""
    video = write_clip(tmp_path / 'clip.mp4', data_root, frames=4)
    out_dir = tmp_path / 'out'
    code, out, err = _run([video, '--out-dir', str(out_dir),
                           '--detect-every', '2'], capsys)
    assert code == 0, err
    assert 'summary: 4 faces in 4 frames' in out
    assert 'fps (detector every 2 frames and when a face is lost, ' \
        'smoothing on)' in out
    cap = cv2.VideoCapture(str(out_dir / 'clip.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    cap.release()
    data = json.load(open(out_dir / 'results_clip.json'))
    frames = data['instance_info']
    assert [f['frame_id'] for f in frames] == [1, 2, 3, 4]
    assert [[i['track_id'] for i in f['instances']] for f in frames] == \
        [[0]] * 4
    # the face moves 2 px right per frame, and so do its landmarks
    x = [np.mean(np.array(f['instances'][0]['keypoints'])[:, 0])
         for f in frames]
    assert all(0 < b - a < 4 for a, b in zip(x, x[1:])), x
    assert sorted(os.listdir(out_dir)) == ['clip.mp4', 'results_clip.json']


def test_video_with_an_unreadable_frame(data_root, tmp_path, capsys):
    """Frame 3 of 5 does not decode: reported, left out of the video,
    listed in the json with its error; the other frames are processed."""
    video = write_clip(tmp_path / 'clip.avi', data_root, frames=5,
                       fourcc='MJPG')
    data = bytearray(open(video, 'rb').read())
    starts = [i for i in range(len(data) - 1)
              if data[i] == 0xFF and data[i + 1] == 0xD8]  # JPEG frames
    assert len(starts) == 5
    data[starts[2] + 2:starts[3] - 8] = bytes(starts[3] - 10 - starts[2])
    with open(video, 'wb') as f:
        f.write(bytes(data))
    out_dir = tmp_path / 'out'
    code, out, err = _run([video, '--out-dir', str(out_dir),
                           '--no-smoothing'], capsys)
    assert code == 0, err
    assert 'skipped: frame 2 could not be read' in out
    assert 'summary: 4 faces in 4 frames (0 without a face, 1 unreadable)' \
        in out
    assert 'smoothing off' in out
    frames = json.load(open(out_dir / 'results_clip.json'))['instance_info']
    assert [f['frame_id'] for f in frames] == [1, 2, 3, 4, 5]
    assert frames[2] == dict(frame_id=3, instances=[],
                             error='frame 2 could not be read')
    assert all(len(frames[i]['instances']) == 1 for i in (0, 1, 3, 4))
    cap = cv2.VideoCapture(str(out_dir / 'clip.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    cap.release()
    assert sorted(os.listdir(out_dir)) == ['clip.mp4', 'results_clip.json']


def test_video_without_a_readable_frame_writes_nothing(data_root, tmp_path,
                                                       capsys):
    video = write_clip(tmp_path / 'clip.avi', data_root, frames=3,
                       fourcc='MJPG')
    data = bytearray(open(video, 'rb').read())
    starts = [i for i in range(len(data) - 1)
              if data[i] == 0xFF and data[i + 1] == 0xD8]
    for s in starts:
        data[s + 2:s + 2000] = bytes(1998)
    with open(video, 'wb') as f:
        f.write(bytes(data))
    out_dir = tmp_path / 'out'
    code, out, err = _run([video, '--out-dir', str(out_dir)], capsys)
    assert code == 2
    assert err.startswith('error: cannot open video') and video in err
    assert not out_dir.exists()  # checked before anything is made


def test_no_face_is_a_message_and_exit_0(ckpt, tmp_path, capsys):
    img = tmp_path / 'wall.png'
    cv2.imwrite(str(img), np.full((200, 300, 3), 128, np.uint8))
    out_dir = tmp_path / 'out'
    code, out, _ = _run(
        [str(img), '--out-dir', str(out_dir), '--checkpoint', ckpt,
         '--save-json'], capsys)
    assert code == 0
    assert 'no face found in' in out
    assert os.listdir(out_dir) == []


def test_a_face_below_the_minimum_size_is_named(ckpt, data_root, tmp_path,
                                               capsys):
    # the astronaut's face is about 110 px across: not looked for with
    # --min-face-size 200, and the message says which option to change
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    argv = [src, '--out-dir', str(tmp_path), '--checkpoint', ckpt]
    code, out, _ = _run(argv + ['--min-face-size', '200'], capsys)
    assert code == 0
    assert (f'no face found in {src} (faces smaller than 200 px are not '
            f'looked for: --min-face-size)') in out
    assert os.listdir(tmp_path) == []
    code, out, _ = _run(argv, capsys)
    assert code == 0 and 'summary: 1 faces in 1 images' in out


def _bad_inputs(tmp_path, data_root):
    """(name, argv without --checkpoint, expected message part)."""
    txt = tmp_path / 'notes.txt'
    txt.write_text('hello')
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'readme.md').write_text('no images here')
    video = tmp_path / 'broken.mp4'
    video.write_bytes(b'\x00' * 100)
    tiny = tmp_path / 'tiny.png'
    cv2.imwrite(str(tiny), np.zeros((8, 8, 3), np.uint8))
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    out = str(tmp_path / 'out')
    return [
        ('missing', [str(tmp_path / 'nope.jpg'), '--out-dir', out],
         'does not exist'),
        ('not an image', [str(txt), '--out-dir', out], 'not an image'),
        ('empty folder', [str(empty), '--out-dir', out], 'has no images'),
        ('bad video', [str(video), '--out-dir', out], 'cannot open video'),
        ('tiny', [str(tiny), '--out-dir', out], 'too small'),
        ('unwritable out dir', [src, '--out-dir', str(a_file / 'sub')],
         'cannot write to output directory'),
        ('det config without checkpoint',
         [src, '--out-dir', out, '--det-config', 'x.py'], 'both --det-config'),
        ('no input', ['--out-dir', out], 'give an input path or --camera'),
        ('input and camera', [src, '--camera', '0', '--out-dir', out],
         'not both'),
        ('no camera', ['--camera', '97', '--out-dir', out],
         'cannot open camera 97'),
        ('detect every 0', [src, '--detect-every', '0', '--out-dir', out],
         '--detect-every 0: expected an integer >= 1'),
        ('negative recrop', [src, '--recrop', '-1', '--out-dir', out],
         '--recrop -1: expected an integer >= 0'),
        ('min cutoff 0', [src, '--min-cutoff', '0', '--out-dir', out],
         '--min-cutoff 0.0: expected a frequency > 0 Hz'),
        ('negative beta', [src, '--beta', '-1', '--out-dir', out],
         '--beta -1.0: expected a value >= 0'),
        ('face size below MTCNN', [src, '--min-face-size', '8', '--out-dir',
                                   out],
         '--min-face-size 8: expected an integer >= 12'),
        ('rotate without eye points',
         [src, '--rotate', '--detector', 'haar', '--out-dir', out],
         "--rotate needs MTCNN's eye points (--detector mtcnn), got "
         '--detector haar'),
        ('test-time views of a config without any', [src, '--tta',
                                                     '--out-dir', out],
         'the model config has no tta_pipeline'),
    ]


def test_rotate_flag_reaches_the_landmarker(ckpt, data_root, demo_obj):
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    args = face_demo.parse_args([src, '--rotate', '--checkpoint', ckpt])
    turned, _ = face_demo.build(args)
    assert turned.rotate is True
    assert demo_obj[1].rotate is False  # the default
    assert demo_obj[1].recrop_passes == 0
    assert face_demo.build(face_demo.parse_args(
        [src, '--recrop', '2', '--checkpoint', ckpt]))[0].recrop_passes == 2
    img = cv2.imread(src)
    boxes, angles = turned.detect(img)
    assert len(boxes) == 1 and angles is not None and angles[0] != 0.


def test_tta_flag_gives_the_bundled_configs_views(data_root, demo_obj):
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    assert demo_obj[1].views == [(1., 0.)]  # one plain view by default
    tta, _ = face_demo.build(face_demo.parse_args([src, '--tta']))
    assert tta.views == [(1., 0.), (0.9, 0.), (1.1, 0.), (1., -10.),
                         (1., 10.)]


def test_bad_inputs_are_one_line_errors(ckpt, data_root, tmp_path, capsys):
    for name, argv, expect in _bad_inputs(tmp_path, data_root):
        code, out, err = _run(argv + ['--checkpoint', ckpt], capsys)
        assert code == 2, (name, out, err)
        assert expect in err, (name, err)
        assert err.startswith('error: '), (name, err)
    assert not osp.exists(tmp_path / 'out' / 'astronaut.png')


def test_directory_given_as_image_path(demo_obj, tmp_path):
    """The API takes one image: a directory there is a user error (the
    CLI treats a directory as a folder of images)."""
    from rht_mmpose.apis import FaceInputError, inference_faces
    with pytest.raises(FaceInputError, match='is a directory'):
        inference_faces(demo_obj[1].model, str(tmp_path))


def test_cli_process_keypoint_mismatch_and_missing_path(data_root, tmp_path):
    """Real processes: exit status 2, one message, no traceback."""
    ckpt = save_small_checkpoint(str(tmp_path / 'k19.pth'), out_channels=19,
                                 num_keypoints_meta=19)
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    cases = [
        ([src, '--config', SMOKE_CONFIG, '--checkpoint', ckpt],
         ['19 keypoints', '68 keypoints']),
        ([str(tmp_path / 'nope'), '--checkpoint', ckpt], ['does not exist']),
    ]
    for argv, expect in cases:
        proc = subprocess.run(
            [sys.executable, DEMO, *argv, '--out-dir',
             str(tmp_path / 'out')],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert 'Traceback' not in proc.stderr
        for part in expect:
            assert part in proc.stderr, proc.stderr


def test_rht_model_with_reference_and_boundaries(data_root, tmp_path,
                                                 capsys):
    from tests.test_apis.small_model import save_small_rht_checkpoint
    ckpt = save_small_rht_checkpoint(str(tmp_path / 'rht.pth'), data_root)
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    out_dir = tmp_path / 'out'
    code, out, err = _run([
        src, '--out-dir',
        str(out_dir), '--checkpoint', ckpt, '--show-reference',
        '--show-boundaries', '--save-json'
    ], capsys)
    assert code == 0, err
    vis = cv2.imread(str(out_dir / 'astronaut.png'))
    assert vis.shape[0] == 512 and vis.shape[1] > 512  # reference panel
    data = json.load(open(out_dir / 'results_astronaut.json'))
    (inst, ) = data['instance_info']
    assert len(inst['keypoints']) == 68
    assert 0 <= inst['reference_index'][0] < 3


def test_cfg_options_reach_the_pose_model(data_root, tmp_path, capsys):
    # --cfg-options as in mmpose: 3 fused references -> 3 reference indices
    # in the json; flip test off
    from tests.test_apis.small_model import save_small_rht_checkpoint
    ckpt = save_small_rht_checkpoint(str(tmp_path / 'rht.pth'), data_root)
    src = osp.join(data_root, 'demo_images', 'astronaut.png')
    argv = [src, '--out-dir', str(tmp_path / 'out'), '--checkpoint', ckpt,
            '--save-json', '--accurate', '--cfg-options',
            'model.test_cfg.num_refs=3', 'model.test_cfg.flip_test=False']
    landmarker, _ = face_demo.build(face_demo.parse_args(argv))
    assert landmarker.model.test_cfg['num_refs'] == 3
    assert landmarker.model.test_cfg['flip_test'] is False
    # --accurate: the model's own settings, which --cfg-options changed
    assert landmarker.backend.num_refs == 3
    assert landmarker.backend.flip_test is False
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    data = json.load(open(tmp_path / 'out' / 'results_astronaut.json'))
    (inst, ) = data['instance_info']
    assert sorted(inst['reference_index']) == [0, 1, 2]
