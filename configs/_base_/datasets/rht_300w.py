# RHT data on 300W (68 landmarks, 13 LAB boundaries)
# in mmpose's layout (data/300w/: annotations/*.json, images/).
# 3148 train faces; test: mmpose's "valid" split, the 689 faces of
# the common (554) + challenging (135) subsets.
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'Face300WDataset'
data_mode = 'topdown'  # with dataset_type: what MMPose's inferencer reads
data_root = 'data/300w/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/face_landmarks_300w_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/face_landmarks_300w_valid.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

train_dataloader = dict(dataset=dict(dataset=train_faces))
val_dataloader = dict(
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# 300W: NME_io (outer eye corners 36 / 45) and NME_ip (eye centres), FR@0.1,
# AUC@0.1 and AUC@0.07 on the full set (689), and the same on the common
# (554) and challenging (135) subsets, in one run, from mmpose's standard
# annotation files (face_landmarks_300w_valid_{common,challenge}.json;
# matched per face). The private 300-W test set (600):
# ../../rht_*_300w_private.py.
test_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['inter_ocular', 'inter_pupil'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07],
    subset_file=dict(
        common=data_root + 'annotations/face_landmarks_300w_valid_common.json',
        challenging=data_root +
        'annotations/face_landmarks_300w_valid_challenge.json'))
# the one validation (after the last epoch) is the test (rht_runtime.py)
val_evaluator = test_evaluator
