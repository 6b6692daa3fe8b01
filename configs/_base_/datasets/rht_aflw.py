# RHT data on AFLW (19 landmarks, AFLW boundary layout)
# in mmpose's layout (data/aflw/: annotations/*.json, images/).
# 20000 train faces, 4386 test faces ("full"; mmpose's
# face_landmarks_aflw_test_frontal.json lists 1314 "frontal" ones, the
# paper 1165: docs/metrics.md says why).
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'AFLWDataset'
data_mode = 'topdown'  # with dataset_type: what MMPose's inferencer reads
data_root = 'data/aflw/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/face_landmarks_aflw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/face_landmarks_aflw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

train_dataloader = dict(dataset=dict(dataset=train_faces))
# the metric's normaliser, box_size, travels with every test sample
# (mmpose's AFLWDataset reads it in test mode; PackPoseInputs keeps only the
# meta keys it is told)
val_pipeline = _base_.val_pipeline
val_pipeline[-1] = dict(
    type='PackPoseInputs',
    meta_keys=('id', 'img_id', 'img_path', 'category_id', 'crowd_index',
               'ori_shape', 'img_shape', 'input_size', 'input_center',
               'input_scale', 'flip', 'flip_direction', 'flip_indices',
               'raw_ann_info', 'dataset_name', 'box_size'))
val_dataloader = dict(
    dataset=dict(
        dataset=test_faces, ref_pool=train_faces, pipeline=val_pipeline))
test_dataloader = val_dataloader

# AFLW: the compared numbers (HRNet 1.57 / 1.46, LUVLi 1.39 / 1.19) divide
# by the annotation's face box size (box_size in mmpose's AFLW json, read by
# AFLWDataset): NME_box_size is the main metric, with FR@0.1, AUC@0.1 and
# AUC@0.07 (Table II's AUC^7_box) on it; NME_diag (diagonal of the
# landmarks' tight box) too. Full (4386) and frontal in one run: the frontal
# faces are a subset (mmpose's face_landmarks_aflw_test_frontal.json,
# matched per face).
test_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['box_size', 'diagonal'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07],
    subset_file=dict(
        frontal=data_root + 'annotations/face_landmarks_aflw_test_frontal.json'))
# the one validation (after the last epoch) is the test (rht_runtime.py)
val_evaluator = test_evaluator
