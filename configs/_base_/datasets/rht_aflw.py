# RHT data on AFLW (19 landmarks, AFLW boundary layout)
# in mmpose's layout (data/aflw/: annotations/*.json, images/).
# 20000 train faces, 4386 test faces ("full"; the 1314 "frontal"
# ones are in face_landmarks_aflw_test_frontal.json).
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'AFLWDataset'
data_root = 'data/aflw/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/face_landmarks_aflw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/face_landmarks_aflw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

train_dataloader = dict(dataset=dict(dataset=train_faces))
val_dataloader = dict(
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# AFLW: NME_diag (diagonal of the landmarks' box), as the paper; NME_box too.
# Frontal subset: --cfg-options test_dataloader.dataset.dataset.ann_file=\
#   annotations/face_landmarks_aflw_test_frontal.json
val_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['diagonal', 'box'],
    fr_threshold=0.1,
    auc_thresholds=[0.1])
test_evaluator = val_evaluator
