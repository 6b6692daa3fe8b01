# MTCNN face detector (facenet-pytorch; its weights ship inside the wheel:
# offline) as an MMDetection model for MMPose's inferencer:
#   MMPoseInferencer(pose2d=BUNDLED_CONFIG, pose2d_weights=BUNDLED_CHECKPOINT,
#                    det_model='demo/mmdetection_cfg/mtcnn_face.py',
#                    det_cat_ids=[0])
# Its boxes are already landmark-style boxes (the box convention the face
# models were trained with), label 0.
default_scope = 'mmdet'
custom_imports = dict(
    imports=['rht_mmpose.apis.face_detection'], allow_failed_imports=False)
model = dict(type='mmpose.MTCNNDetector', min_size=40, score_thr=0.88)
test_dataloader = dict(
    dataset=dict(
        type='BaseDetDataset',  # only its metainfo is read (lazy_init)
        metainfo=dict(classes=('face', ), palette=[(0, 255, 0)]),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='PackDetInputs'),
        ]))
visualizer = dict(type='DetLocalVisualizer', name='mtcnn_face_visualizer')
