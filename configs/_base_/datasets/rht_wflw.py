# RHT data on WFLW (98 landmarks, 13 LAB boundaries)
# in mmpose's layout (data/wflw/: annotations/*.json, images/).
# 7500 train faces, 2500 test faces.
# Codec, augmentation, reference modes: rht_face_common.py.
_base_ = ['./rht_face_common.py']

dataset_type = 'WFLWDataset'
data_root = 'data/wflw/'

train_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/face_landmarks_wflw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode='topdown',
    ann_file='annotations/face_landmarks_wflw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

train_dataloader = dict(dataset=dict(dataset=train_faces))
val_dataloader = dict(
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# WFLW: NME_io (outer eye corners 60 / 72), FR@0.1, AUC@0.1; the test adds
# the six attribute subsets from WFLW's own list files (WFLW_annotations/
# list_98pt_test/, copied under data/wflw/annotations/). They name images by
# file name: the faces of a photo that holds several faces share its flags.
val_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode='inter_ocular',
    fr_threshold=0.1,
    auc_thresholds=[0.1])
wflw_lists = data_root + 'annotations/list_98pt_test/list_98pt_test_'
test_evaluator = dict(
    val_evaluator,
    subset_file=dict(
        pose=wflw_lists + 'largepose.txt',
        expression=wflw_lists + 'expression.txt',
        illumination=wflw_lists + 'illumination.txt',
        makeup=wflw_lists + 'makeup.txt',
        occlusion=wflw_lists + 'occlusion.txt',
        blur=wflw_lists + 'blur.txt'))
