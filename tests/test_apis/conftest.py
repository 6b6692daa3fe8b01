import pytest

from tests.test_apis.small_model import save_small_checkpoint


@pytest.fixture(scope='session')
def small_checkpoint(tmp_path_factory):
    """Path of the untrained 68-point smoke model's checkpoint."""
    return save_small_checkpoint(
        str(tmp_path_factory.mktemp('small') / 'small.pth'))


@pytest.fixture(scope='session')
def small_model(small_checkpoint):
    from rht_mmpose.apis import init_face_model
    return init_face_model(None, small_checkpoint)
