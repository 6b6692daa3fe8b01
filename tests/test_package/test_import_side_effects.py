"""``import rht_mmpose`` registers modules and changes nothing else: every
attribute of the mmengine / mmpose / torch modules it touches, and every
entry already in MMPose's registries, is the same object before and after
(checked in a fresh interpreter, before any of our code ran)."""
import subprocess
import sys
import textwrap

from tests.conftest import REPO_ROOT

PROBE = textwrap.dedent('''
    import importlib, json
    MODULES = [
        'mmengine.dist.utils', 'mmengine.dist', 'mmengine.runner',
        'mmengine.runner.runner', 'mmengine.runner.checkpoint',
        'mmengine.runner.loops', 'mmengine.hooks', 'mmengine.model',
        'mmengine.fileio', 'mmpose.apis', 'mmpose.apis.inference',
        'mmpose.models.pose_estimators.topdown', 'mmpose.codecs',
        'mmpose.datasets.transforms', 'mmpose.evaluation.functional',
        'torch', 'torch.serialization', 'torch.distributed',
        'torch.nn.functional', 'numpy', 'cv2',
    ]

    def snapshot():
        out = {}
        for name in MODULES:
            mod = importlib.import_module(name)
            for attr, value in vars(mod).items():
                if not attr.startswith('__'):
                    out[f'{name}.{attr}'] = id(value)
        from mmpose.models.pose_estimators.topdown import \\
            TopdownPoseEstimator
        for attr, value in vars(TopdownPoseEstimator).items():
            out[f'TopdownPoseEstimator.{attr}'] = id(value)
        return out

    def registries():
        from mmpose import registry
        out = {}
        for reg_name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS',
                         'KEYPOINT_CODECS', 'HOOKS'):
            reg = getattr(registry, reg_name)
            for key, value in reg.module_dict.items():
                out[f'{reg_name}.{key}'] = id(value)
        return out

    def safe_globals():
        import torch.serialization as ser
        get = getattr(ser, 'get_safe_globals', None)
        return sorted(map(repr, get())) if get else []

    import mmpose.apis  # noqa: F401  (everything mmpose registers)
    import mmpose.models, mmpose.datasets, mmpose.evaluation  # noqa
    before, reg_before, safe_before = snapshot(), registries(), \\
        safe_globals()
    import rht_mmpose  # noqa: F401
    after, reg_after, safe_after = snapshot(), registries(), safe_globals()
    changed = sorted(k for k in before if after.get(k) != before[k])
    replaced = sorted(k for k in reg_before if reg_after[k] != reg_before[k])
    added = sorted(set(reg_after) - set(reg_before))
    print(json.dumps(dict(changed=changed, replaced=replaced, added=added,
                          checked=len(before),
                          safe_changed=safe_before != safe_after)))
''')


def test_import_changes_nothing_but_registries():
    import json
    proc = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['checked'] > 1000
    # what tools/train.py used to find patched at import
    assert result['changed'] == [], result['changed']
    assert result['replaced'] == [], result['replaced']
    assert not result['safe_changed']
    # registering is the one effect
    assert 'MODELS.RHTPoseEstimator' in result['added']
    assert 'MODELS.ReferencePool' in result['added']
    assert 'METRICS.FaceNMEMetric' in result['added']
