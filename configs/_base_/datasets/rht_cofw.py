# RHT data on COFW (29 landmarks, COFW boundary layout)
# in mmpose's layout (data/cofw/: annotations/*.json, images/).
# 1345 train faces, 507 test faces.
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'COFWDataset'
data_root = 'data/cofw/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/cofw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/cofw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

train_dataloader = dict(dataset=dict(dataset=train_faces))
val_dataloader = dict(
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# COFW: NME_box (sqrt(w * h) of the landmarks' box) first, so FR and AUC
# use it, then NME_io (8 / 9); FR@0.1, AUC@0.1, AUC@0.07 (the paper's AUC^7).
val_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['box', 'inter_ocular'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07])
test_evaluator = val_evaluator
