# RHT data on WFLW (98 landmarks, 13 LAB boundaries)
# in mmpose's layout (data/wflw/: annotations/*.json, images/).
# 7500 train faces, 2500 test faces.
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'WFLWDataset'
data_mode = 'topdown'  # with dataset_type: what MMPose's inferencer reads
data_root = 'data/wflw/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/face_landmarks_wflw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/face_landmarks_wflw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

train_dataloader = dict(dataset=dict(dataset=train_faces))
val_dataloader = dict(
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# WFLW: NME_io (outer eye corners 60 / 72), FR@0.1, AUC@0.1 on the 2500 test
# faces, and the same on the six attribute subsets. Membership is per FACE:
# mmpose's subset files (face_landmarks_wflw_test_<attribute>.json, written
# by mmpose's wflw2coco.py from WFLW's own list_98pt_test_<attribute>.txt,
# one line per face) list faces with their landmarks, and FaceNMEMetric
# matches a test face by its photo and its landmarks, so the faces of one
# photo keep their own flags. (WFLW's list_98pt_test/*.txt files work too.)
wflw_subsets = data_root + 'annotations/face_landmarks_wflw_test_'
test_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode='inter_ocular',
    fr_threshold=0.1,
    auc_thresholds=[0.1],
    subset_file=dict(
        pose=wflw_subsets + 'largepose.json',
        expression=wflw_subsets + 'expression.json',
        illumination=wflw_subsets + 'illumination.json',
        makeup=wflw_subsets + 'makeup.json',
        occlusion=wflw_subsets + 'occlusion.json',
        blur=wflw_subsets + 'blur.json'))
# the one validation (after the last epoch) is the test (rht_runtime.py)
val_evaluator = test_evaluator
