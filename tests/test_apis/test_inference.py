"""init_face_model / inference_faces / reference pool rendering."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from rht_mmpose.apis import (FaceInputError, crop_reference_faces,
                             inference_faces, init_face_model, load_image,
                             set_user_reference_pool)
from rht_mmpose.apis import inference as inference_mod
from tests.test_apis.small_model import SMOKE_CONFIG, save_small_checkpoint

ASTRONAUT_BOX = np.array([[190., 100., 260., 175.]], np.float32)


def _astronaut(data_root):
    return cv2.imread(osp.join(data_root, 'demo_images', 'astronaut.png'))


def test_no_bundled_model_is_a_clear_error(monkeypatch, tmp_path):
    missing = str(tmp_path / 'bundled.pth')
    monkeypatch.setattr(inference_mod, 'BUNDLED_CHECKPOINT', missing)
    with pytest.raises(FileNotFoundError, match='no model is bundled yet') \
            as info:
        init_face_model()
    assert missing in str(info.value)
    assert '--checkpoint' in str(info.value)


def test_config_embedded_in_checkpoint_is_used(small_checkpoint):
    model = init_face_model(None, small_checkpoint)
    assert model.dataset_meta['num_keypoints'] == 68
    assert model.cfg.model.head.out_channels == 68
    assert not model.training


def test_checkpoint_without_config_names_the_bundled_config(tmp_path):
    # no config given and none embedded: the bundled model's config is
    # read, and an error must name that file, not the checkpoint
    ckpt = save_small_checkpoint(str(tmp_path / 'bare.pth'), embed_cfg=False)
    with pytest.raises(FaceInputError) as info:
        init_face_model(None, ckpt)
    msg = str(info.value)
    assert inference_mod.BUNDLED_CONFIG in msg, msg
    assert 'embedded in the checkpoint' not in msg, msg


@pytest.mark.parametrize('with_meta', [True, False])
def test_keypoint_mismatch_names_both_counts(tmp_path, with_meta):
    ckpt = save_small_checkpoint(
        str(tmp_path / 'k19.pth'), out_channels=19,
        num_keypoints_meta=19 if with_meta else None)
    with pytest.raises(FaceInputError) as info:
        init_face_model(SMOKE_CONFIG, ckpt)
    msg = str(info.value)
    assert '19 keypoints' in msg and '68 keypoints' in msg, msg
    assert ckpt in msg and SMOKE_CONFIG in msg


def test_missing_and_garbage_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_face_model(SMOKE_CONFIG, str(tmp_path / 'nope.pth'))
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(FaceInputError, match='could not read checkpoint'):
        init_face_model(SMOKE_CONFIG, str(bad))


def test_matches_mmpose_inference_topdown(small_model, data_root):
    from mmpose.apis import inference_topdown
    img = _astronaut(data_root)
    ours = inference_faces(small_model, img, ASTRONAUT_BOX)
    ref = inference_topdown(small_model, img, ASTRONAUT_BOX)
    assert len(ours) == 1
    kpts = ours[0].pred_instances.keypoints
    assert kpts.shape == (1, 68, 2)
    assert ours[0].pred_instances.keypoint_scores.shape == (1, 68)
    np.testing.assert_allclose(kpts, ref[0].pred_instances.keypoints)
    np.testing.assert_allclose(ours[0].pred_instances.bboxes, ASTRONAUT_BOX)


def test_path_input_equals_array_input(small_model, data_root):
    path = osp.join(data_root, 'demo_images', 'astronaut.png')
    a = inference_faces(small_model, path, ASTRONAUT_BOX)
    b = inference_faces(small_model, _astronaut(data_root), ASTRONAUT_BOX)
    np.testing.assert_allclose(a[0].pred_instances.keypoints,
                               b[0].pred_instances.keypoints)
    assert a[0].img_path == path


def test_whole_image_when_no_boxes_and_empty_boxes(small_model, data_root):
    img = _astronaut(data_root)
    out = inference_faces(small_model, img)
    np.testing.assert_allclose(out[0].pred_instances.bboxes,
                               [[0, 0, img.shape[1], img.shape[0]]])
    assert inference_faces(small_model, img, np.zeros((0, 4))) == []
    scored = np.concatenate([ASTRONAUT_BOX, [[0.7]]], axis=1)
    out = inference_faces(small_model, img, scored)
    np.testing.assert_allclose(out[0].pred_instances.bbox_scores, [0.7])
    with pytest.raises(FaceInputError, match=r'\(N, 4\)'):
        inference_faces(small_model, img, np.zeros((2, 3)))


def test_grey_rgba_and_16bit_images_just_work(small_model, data_root):
    img = _astronaut(data_root)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    expect_grey = inference_faces(small_model, cv2.cvtColor(
        grey, cv2.COLOR_GRAY2BGR), ASTRONAUT_BOX)[0].pred_instances.keypoints
    for variant in (grey, grey[:, :, None]):
        got = inference_faces(small_model, variant, ASTRONAUT_BOX)
        np.testing.assert_allclose(got[0].pred_instances.keypoints,
                                   expect_grey)
    expect = inference_faces(small_model, img,
                             ASTRONAUT_BOX)[0].pred_instances.keypoints
    rgba = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    rgba[:, :, 3] = 17
    wide = img.astype(np.uint16) * 257
    for variant in (rgba, wide):
        got = inference_faces(small_model, variant, ASTRONAUT_BOX)
        np.testing.assert_allclose(got[0].pred_instances.keypoints, expect)


def test_heatmaps_are_returned_on_request(small_model, data_root):
    out = inference_faces(small_model, _astronaut(data_root), ASTRONAUT_BOX,
                          return_heatmaps=True)
    hm = out[0].pred_fields.heatmaps
    w, h = small_model.cfg.codec['input_size']
    with torch.no_grad():
        raw = small_model._forward(torch.zeros(1, 3, h, w))
    assert tuple(hm.shape) == tuple(raw.shape[1:]) and hm.shape[0] == 68
    plain = inference_faces(small_model, _astronaut(data_root),
                            ASTRONAUT_BOX)
    assert 'pred_fields' not in plain[0]


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_image(str(tmp_path / 'missing.png'))
    with pytest.raises(FaceInputError, match='is a directory'):
        load_image(str(tmp_path))
    txt = tmp_path / 'notes.png'
    txt.write_text('hello')
    with pytest.raises(FaceInputError, match='not an image'):
        load_image(str(txt))
    with pytest.raises(FaceInputError, match='too small'):
        load_image(np.zeros((8, 40, 3), np.uint8))
    assert load_image(np.full((20, 20), 0.5, np.float32)).max() == 128


def _fake_rht_model(codec):
    """An object with what pool cropping reads: head.decoder / ref_size,
    dataset_meta."""
    class Head(torch.nn.Module):
        decoder = codec
        ref_size = 32

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = Head()
            self.dataset_meta = dict(num_keypoints=5)

    return Model()


def test_reference_faces_are_cropped_like_targets():
    from mmpose.codecs import MSRAHeatmap
    codec = MSRAHeatmap(input_size=(64, 64), heatmap_size=(32, 32), sigma=1)
    model = _fake_rht_model(codec)
    yy, xx = np.mgrid[0:120, 0:100]  # smooth: resampling changes little
    img = np.dstack([xx * 2, yy * 2, xx + yy]).astype(np.uint8)
    kpts = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]],
                    np.float32)
    pool = crop_reference_faces(model, [img], [kpts])
    assert pool['images'].shape == (1, 32, 32, 3)
    assert pool['images'].dtype == np.uint8
    # Independent: box (30..70, 40..80) padded 1.25 -> 50x50 around
    # (50, 60) -> 64 px input -> 32 px reference: x' = (x - 25) * 32 / 50.
    expect = (kpts - [25, 35]) * 32 / 50
    np.testing.assert_allclose(pool['keypoints'][0], expect, atol=1e-3)
    # the crop is that square of the image, area-downsampled
    square = cv2.resize(img[35:85, 25:75], (32, 32),
                        interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(pool['images'][0].astype(int) - square).mean() < 2


def test_reference_pool_errors(small_model):
    with pytest.raises(FaceInputError, match='does not use reference'):
        set_user_reference_pool(small_model, dict(images=[], keypoints=[]))
    from mmpose.codecs import MSRAHeatmap
    model = _fake_rht_model(
        MSRAHeatmap(input_size=(64, 64), heatmap_size=(32, 32), sigma=1))
    img = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(FaceInputError, match='3 landmarks, the model '
                       'expects 5'):
        crop_reference_faces(model, [img], [np.ones((3, 2))])
