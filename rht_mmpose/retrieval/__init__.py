"""Reference retrieval: global descriptors in a nearest-neighbour index,
SIFT re-ranking of the top candidates."""
from .face_retrieval_index import (FaceRetrievalIndex, aggregate_sift,
                                   build_model_pool_index,
                                   index_path_for_checkpoint,
                                   model_pool_descriptors, pool_hash)

__all__ = [
    'FaceRetrievalIndex', 'aggregate_sift', 'build_model_pool_index',
    'index_path_for_checkpoint', 'model_pool_descriptors', 'pool_hash'
]
