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
# TFX 1.16 is the newest TFX whose ml-metadata wheels install there (../shared/DESIGN.md).
ARG PYTHON_IMAGE=python:3.10-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# pyfarmhash (in the lock, through tensorflow-data-validation) has no wheel: it needs g++.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.5.11 && python -m venv /opt/venv
# The pinned set first (its layer is reused while requirements.lock is unchanged), as
# `make setup` installs it: exact versions of everything, nothing resolved anew.
COPY requirements.lock /src/requirements.lock
RUN uv pip install --python /opt/venv/bin/python --no-cache -r /src/requirements.lock
ARG CUDA=0
RUN if [ "$CUDA" = 1 ]; then \
      uv pip install --python /opt/venv/bin/python --no-cache -c /src/requirements.lock \
        "tensorflow[and-cuda]==2.16.2"; \
    fi
# Then the project, without dependencies (the lock decided them): lsgan_tf, data_prep,
# components and pipeline (pyproject.toml's packages), plus the `lsgan` command.
COPY pyproject.toml README.md /src/
COPY lsgan_tf /src/lsgan_tf
COPY data_prep /src/data_prep
COPY components /src/components
COPY pipeline /src/pipeline
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation /src \
    && cd / && /opt/venv/bin/python -c "import components.trainer.module, \
components.example_gen.executor, components.evaluator.executor, \
tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"

FROM ${PYTHON_IMAGE}
COPY --from=build /opt/venv /opt/venv
# `python` in the spec's command is the virtualenv's; quiet TensorFlow C++ logs as `lsgan` does.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /work
CMD ["lsgan", "--help"]
