# Trans-MNv2, stage 6: stage 5 (trans_mnv2_fixcrop_300w2012_cpu.py: 12
# epochs from stage 4 at the 1.125 test crop) again, with the faces loaded
# as 0-based pixel centres (rht_mmpose.utils.io.read_face_points) instead
# of the 300-W files' 1-based values. Stage 5 is its control: same start,
# recipe, seed and data order; only the annotation convention differs.
#   python tools/train.py \
#       configs/experiments/trans_mnv2_zerobased_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/trans_mnv2_zerobased
_base_ = ['./trans_mnv2_fixcrop_300w2012_cpu.py']
