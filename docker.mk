# Container targets, included from the Makefile (docs/KUBEFLOW.md tells the whole story).
#   make image            the image `lsgan compile --image=IMAGE` names, built where a Docker engine
#                         answers: FROM PYTHON_IMAGE (python:3.10-slim-bookworm) when the engine has
#                         it or can pull it, else FROM BASE_IMAGE, made by `make base-image`
#   make base-image       BASE_IMAGE without a registry: Debian bookworm from Debian's packages
#                         (debootstrap) plus this machine's Python 3.10 (tools/docker/base_image.sh)
#   make docker-install   Debian's docker.io (dockerd, containerd, runc) and debootstrap, when missing
#   make test-containers  starts a dockerd when none answers (tools/docker/with_dockerd.sh: a UNIX
#                         socket, its own data root, stopped by its pid at the end), builds
#                         TEST_IMAGE and runs the tests marked `containers` in it: the compiled
#                         pipeline task by task, and two-container multi-worker training
# DOCKER names the client; DOCKER_DATA_ROOT the image store of a dockerd started here.

_docker_mk_default_goal := $(.DEFAULT_GOAL)

DOCKER ?= docker
IMAGE ?= lsgan-tfx:latest
PYTHON_IMAGE ?= python:3.10-slim-bookworm
BASE_IMAGE ?= lsgan-tfx-base:3.10-bookworm
TEST_IMAGE ?= lsgan-tfx:test
WITH_DOCKERD := DOCKER=$(DOCKER) tools/docker/with_dockerd.sh
DOCKER_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DOCKER

.PHONY: image base-image docker-install test-containers _image _base-image _test-containers

# What to run next once the image exists: push it where the cluster can pull it, compile for it.
IMAGE_NEXT = echo "  $(DOCKER) push $(IMAGE)"; \
	echo "  .venv/bin/lsgan compile --image=$(IMAGE) --root=gs://MY_BUCKET/lsgan \
	--output=pipeline.json"

image:
	@if $(DOCKER) info >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory _image && { echo "image: built $(IMAGE); next:"; $(IMAGE_NEXT); }; \
	else \
	  echo "image: no Docker engine answers here ($(DOCKER) info failed); start one"; \
	  echo "  (make docker-install, then tools/docker/with_dockerd.sh make image) or, where one runs:"; \
	  echo "  docker build -t $(IMAGE) ."; $(IMAGE_NEXT); \
	fi

# The base: PYTHON_IMAGE when present or pullable (60 s at most), else BASE_IMAGE (made if absent).
_image:
	@set -eo pipefail; base=$(PYTHON_IMAGE); \
	if ! $(DOCKER) image inspect $$base >/dev/null 2>&1 \
	   && ! timeout 60 $(DOCKER) pull -q $$base >/dev/null 2>&1; then \
	  echo "image: $$base cannot be pulled (no registry reachable?); building on $(BASE_IMAGE)"; \
	  base=$(BASE_IMAGE); \
	  $(DOCKER) image inspect $$base >/dev/null 2>&1 || tools/docker/base_image.sh $$base; \
	fi; \
	start=$$(date +%s); \
	echo "image: building $(IMAGE) FROM $$base (the dependencies' layer: minutes the first time)"; \
	mkdir -p runs; log=runs/image-build.log; \
	if ! DOCKER_BUILDKIT=0 $(DOCKER) build --network=host --build-arg PYTHON_IMAGE=$$base \
	    -t $(IMAGE) . 2>&1 | tee $$log | grep --line-buffered -E '^Step [0-9]+/' \
	    | sed -u 's/^\(.\{0,96\}\).*/  \1/'; then \
	  tail -30 $$log >&2; echo "image: docker build failed (whole log: $$log)" >&2; exit 1; \
	fi; \
	echo "image: $(IMAGE) on $$base in $$(( $$(date +%s) - start )) s, \
	$$($(DOCKER) image inspect --format '{{.Size}}' $(IMAGE) | awk '{printf "%.2f GB", $$1/1e9}')"

base-image: docker-install
	$(WITH_DOCKERD) $(MAKE) --no-print-directory _base-image

_base-image:
	tools/docker/base_image.sh $(BASE_IMAGE)

docker-install:
	@if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then \
	  echo "docker-install: installing docker.io and debootstrap from Debian's packages"; \
	  $(DOCKER_SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(DOCKER_SUDO) apt-get install -y -qq \
	    --no-install-recommends docker.io debootstrap >/dev/null; \
	fi
	@command -v dockerd >/dev/null || { echo "docker-install: no dockerd after apt-get" >&2; exit 1; }

test-containers: setup docker-install
	$(WITH_DOCKERD) $(MAKE) --no-print-directory _test-containers

# The image twice: the second build must take every layer from the cache (no step runs).
_test-containers:
	@$(MAKE) --no-print-directory _image IMAGE=$(TEST_IMAGE)
	@set -o pipefail; $(MAKE) --no-print-directory _image IMAGE=$(TEST_IMAGE) | tail -1; \
	if grep -q -- '---> Running in' runs/image-build.log; then \
	  echo "test-containers: a rebuild of the unchanged image ran steps again:" >&2; \
	  grep -B1 -- '---> Running in' runs/image-build.log >&2; exit 1; fi; \
	echo "test-containers: rebuilt unchanged: every layer from the cache"
	LSGAN_TEST_IMAGE=$(TEST_IMAGE) $(PY) -m pytest -q -s -m containers \
	  tests/pipeline/test_kubeflow_execution.py tests/lsgan_tf/test_multi_worker.py

.DEFAULT_GOAL := $(_docker_mk_default_goal)
