# RHT-R-lite: RHT-R with a lighter reference branch, for the CPU latency
# target (RHT / Trans-R <= 1.4 at batch 1). Two changes, both inside the
# paper's description ("Conv-BN-ReLU stacks", "Conv" in eq. 5):
#   - MSFFM fusion convs 1x1 instead of 3x3 (5.4 -> 0.6 GMACs per pass)
#   - one Conv-BN-ReLU per extractor stage instead of two (2.45 -> 0.63
#     GMACs for the target's Q extractor)
# STM, HTM, the scales and the channels are unchanged. Trained and tested
# exactly like configs/rht_res50_300w_subset.py.
_base_ = ['./rht_res50_300w_subset.py']

model = dict(head=dict(fusion_kernel_size=1, extractor_num_convs=1))
