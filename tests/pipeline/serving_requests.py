"""Test helper: TF Serving's Predict in process, a ``PredictRequest`` through a signature.

``predict(model_dir, request)`` does what the model server does with a gRPC Predict call (pick
the signature named in ``model_spec.signature_name``, default ``serving_default``, convert the
input TensorProtos, run, convert the outputs), so requests can be checked where the server
cannot be installed. ``rest_body(request)`` is the matching REST ``:predict`` JSON body.
"""
from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

DEFAULT_SIGNATURE = "serving_default"


def predict(model_dir: str, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
    loaded = tf.saved_model.load(model_dir)
    name = request.model_spec.signature_name or DEFAULT_SIGNATURE
    if name not in loaded.signatures:
        raise KeyError(f"no signature {name!r}; the model has {sorted(loaded.signatures)}")
    inputs = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
    outputs = loaded.signatures[name](**inputs)
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    response.model_spec.signature_name = name
    for key, value in outputs.items():
        response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
    return response


def rest_body(request: predict_pb2.PredictRequest) -> Dict[str, Any]:
    """The REST body for ``POST /v1/models/<name>:predict`` (columnar ``inputs`` format)."""
    body: Dict[str, Any] = {"inputs": {key: tf.make_ndarray(proto).tolist()
                                       for key, proto in request.inputs.items()}}
    if request.model_spec.signature_name:
        body["signature_name"] = request.model_spec.signature_name
    return body
