# RHT data on COFW (29 landmarks, COFW boundary layout)
# in mmpose's layout (data/cofw/: annotations/*.json, images/).
# 1345 train faces, 507 test faces.
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'COFWDataset'
data_mode = 'topdown'  # with dataset_type: what MMPose's inferencer reads
data_root = 'data/cofw/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/cofw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/cofw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

# eq. 7: weight 0 for occluded landmarks. mmpose's COFW json flags them
# v = 1 (visible v = 2) and its loader makes both "visible"; the extra step
# after GenerateTarget zeroes their loss weight (they stay annotated
# targets for the boundaries and for the evaluation).
train_pipeline = _base_.train_pipeline
train_pipeline.insert(-1, dict(type='OccludedKeypointWeights'))
train_dataloader = dict(
    dataset=dict(dataset=train_faces, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# COFW: Table III (captioned "NME_box") compares with numbers normalised by
# the distance of the two PUPILS (points 16 / 17: human 5.60, RCPR 8.50,
# LAB 5.58, ADNet 4.68): NME_ip is the main metric, FR@0.1 and AUC@0.1
# are computed on it. NME_io is mmpose's / HRNet-Facial's COFW normaliser
# (points 8 / 9, behind mmpose's zoo figure 3.48), printed as well.
test_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['inter_pupil', 'inter_ocular'],
    fr_threshold=0.1,
    auc_thresholds=[0.1])
# the one validation (after the last epoch) is the test (rht_runtime.py)
val_evaluator = test_evaluator
