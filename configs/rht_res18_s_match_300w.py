# The shipped model checkpoints/rht_res18_s_match_300w.pth: RHT-R-S +
# correspondence loss, its own 48-face reference pool (the 10 best STM
# matches averaged), with its linear shape refiner (fitted on its own
# training-face predictions), as tools/test.py evaluates it and as the demo
# and the API run it: ground-truth landmark boxes, flip test, every
# reference from the model itself (no SIFT search over the training set),
# on the 300-W common subset (HELEN test 330 + LFPW test 224), with each
# part reported on its own.
#   python tools/test.py configs/rht_res18_s_match_300w.py \
#       checkpoints/rht_res18_s_match_300w.pth
_base_ = ['experiments/rht_res18_s_match_300w2012_cpu_stage3.py']

load_from = None  # the weights are the checkpoint given to tools/test.py
# what MMPose's inferencer reads (MMPoseInferencer(pose2d=this file, ...))
dataset_type = 'Face300WPtsDataset'
data_mode = 'topdown'

# references: the 10 pool faces whose key patches STM matches best, chosen
# on the validation split (configs/experiments/bundled/*_val.py; docs/results.md)
model = dict(
    test_cfg=dict(ref_mode='stm_match', num_refs=10),
    shape_refiner=dict(
        type='LinearShapeRefiner', num_keypoints=68, anchors=(36, 45)))
# The fast path of FaceLandmarker / the demo (rht_mmpose.apis.fast_settings):
# the 2 best STM matches with the flip test instead of 10. Chosen on the
# 202 validation faces (configs/experiments/bundled/*_val.py, GT boxes):
# NME_io 0.0339 against 0.0336 for the model's own 10 (3: 0.0337; 3 without
# flip: 0.0347; 3 chosen by descriptor: 0.0343); the fusion module runs
# once per reference and dominates the time: 2 instead of 3 brings a
# 6-face photo above 10 faces/s on 2 cores.
fast_test_cfg = dict(num_refs=2, flip_test=True)

test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(
        type='PackPoseInputs',
        meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                   'input_size', 'input_center', 'input_scale', 'flip',
                   'flip_direction', 'flip_indices', 'dataset_name',
                   'subset')),
]
test_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='Face300WPtsDataset',
        data_root={{_base_.data_root}},
        pts_folders=['helen/testset', 'lfpw/testset'],
        cache_dir={{_base_.cache_dir}},
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(subset_tags=['helen', 'lfpw'])
