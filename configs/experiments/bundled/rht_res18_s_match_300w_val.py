# rht_res18_s_match_300w.py on the validation split of the 2012 training faces
# (../splits/300w_train2012_val.txt: 202 faces, AFW 34 + HELEN 88 + LFPW 80,
# each part reported): where every choice of decoding, references and
# stages is made. The shipped models never trained on these faces; for the
# stage-2 pair (checkpoints/stage2/, trained on AFW + HELEN train) only the
# LFPW part (NME_io/lfpw) is held out.
#   python tools/test.py configs/experiments/bundled/rht_res18_s_match_300w_val.py \
#       checkpoints/rht_res18_s_match_300w.pth
_base_ = ['../../rht_res18_s_match_300w.py']

test_dataloader = dict(
    dataset=dict(
        pts_folders=['afw', 'helen/trainset', 'lfpw/trainset'],
        split_file='configs/experiments/splits/300w_train2012_val.txt',
        split='val'))
test_evaluator = dict(subset_tags=['afw', 'helen', 'lfpw'])
