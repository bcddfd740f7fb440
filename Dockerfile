# The image that `lsgan compile --image=IMAGE` names. Kubeflow Pipelines / Vertex AI Pipelines
# run every task of the compiled pipeline in it as
#   python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor \
#     --executor_class_path=... --json_serialized_invocation_args=... [beam args]
# which imports this project's components and components.trainer.module.run_fn.
#
#   make image IMAGE=gcr.io/my-project/lsgan-tfx:1     (docker build -t IMAGE .)
#   docker build --build-arg CUDA=1 -t IMAGE-gpu .     (adds TensorFlow's CUDA libraries)
#
# Debian bookworm (glibc 2.36) and Python 3.10, as the machines the lock file was made on:
# TFX 1.16 is the newest TFX whose ml-metadata wheels install there (docs/KUBEFLOW.md).
ARG PYTHON_IMAGE=python:3.10-slim-bookworm

# Stage 1, thrown away: wheels for the lock's packages that PyPI has only as C++ source
# (pyfarmhash, through tensorflow-data-validation), built with Debian's g++.
FROM ${PYTHON_IMAGE} AS wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /src/requirements.lock
RUN grep -E '^pyfarmhash==' /src/requirements.lock > /src/from_source.txt \
    && python -m pip wheel --quiet --no-cache-dir --no-deps --use-pep517 \
         -r /src/from_source.txt -w /wheels

# Stage 2, the image: the pinned set installed in place (no copy of a 3.4 GB virtualenv between
# stages), as `make setup` installs it: exact versions of everything, nothing resolved anew. This
# layer is reused while requirements.lock is unchanged; a code change rebuilds only the layers
# after it (a few MB).
FROM ${PYTHON_IMAGE}
RUN python -m pip install --quiet --no-cache-dir uv==0.5.11 && python -m venv /opt/venv
COPY requirements.lock /src/requirements.lock
COPY --from=wheels /wheels /wheels
RUN uv pip install --python /opt/venv/bin/python --no-cache --compile-bytecode --find-links /wheels \
      -r /src/requirements.lock \
    && rm -rf /wheels
ARG CUDA=0
RUN if [ "$CUDA" = 1 ]; then \
      uv pip install --python /opt/venv/bin/python --no-cache -c /src/requirements.lock \
        "tensorflow[and-cuda]==2.16.2"; \
    fi
# `python` in the spec's command is the virtualenv's; quiet TensorFlow C++ logs as `lsgan` does.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2
# Then the project, without dependencies (the lock decided them): lsgan_tf, data_prep,
# components and pipeline (pyproject.toml's packages), plus the `lsgan` command.
COPY pyproject.toml README.md /src/
COPY lsgan_tf /src/lsgan_tf
COPY data_prep /src/data_prep
COPY components /src/components
COPY pipeline /src/pipeline
RUN pip install --quiet --no-cache-dir --no-deps --no-build-isolation /src \
    && rm -rf /src && cd / && python -W ignore -c "import components.trainer.module, \
components.example_gen.executor, components.evaluator.executor, \
tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
WORKDIR /work
CMD ["lsgan", "--help"]
