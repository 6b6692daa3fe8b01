# rht_mnv2_300w.py on the validation split of the 2012 training faces
# (../splits/300w_train2012_val.txt: 202 faces, AFW 34 + HELEN 88 + LFPW 80,
# each part reported): where every choice of checkpoint, decoding,
# references and refiner is made.
#   python tools/test.py configs/experiments/bundled/rht_mnv2_300w_val.py \
#       checkpoints/rht_mnv2_300w.pth
_base_ = ['../../rht_mnv2_300w.py']

test_dataloader = dict(
    dataset=dict(
        pts_folders=['afw', 'helen/trainset', 'lfpw/trainset'],
        split_file='configs/experiments/splits/300w_train2012_val.txt',
        split='val'))
test_evaluator = dict(subset_tags=['afw', 'helen', 'lfpw'])
