"""``ReadAndPrepare``: any registered source -> tf.Examples by split, plus dead letters.

    outputs = pipeline | ReadAndPrepare("hwdb", "/data/HWDB1.0", PrepOptions(charset=...))

Steps (labelled as in the Beam UI):
  ListInputs       the source's plan, one element per shard (spread over the workers)
  Read             ``Source.read`` per shard, in ``setup``-opened resources -> Record, Reject
                   or Skipped, all on the one output
  DecodeAndResize  ``Source.decode`` per Record -> Decoded or Reject; the others pass through
  Vocabulary       (sources with discovered labels) every ClassKey seen, combined into one
                   sorted list; ``Labelled`` joins it to the records by class (CoGroupByKey)
  ToExample        ``serialize_example`` and the split -> (split, bytes): the one the source
                   assigned (``Record.split``), else ``split_of(id, eval_fraction)``
Bad input becomes a ``Reject`` in ``Read`` or ``DecodeAndResize``; an unexpected exception in a
source's ``decode`` is a reject too (``decode_error``), so one bad record never stops a run.
Ids, reject details and class names a source did not make clean (a third-party plugin's) are
made single-line UTF-8 by ``records.clean_text`` before they reach Beam's coders and files.

Every runner gets the same dead-letter contract: the steps use one output each (the kinds are
told apart by their types downstream, with ``Filter``), no side inputs, and counts come from
the data; Beam's Dask runner, for one, sends every tagged output of a ParDo to each consumer
and recomputes side inputs inside each task.

``outputs`` is a dict of PCollections:
  ``train``, ``eval``   serialized tf.train.Example bytes (example_schema.TRAIN / EVAL)
  ``rejects``           records.Reject            (the dead letters of both steps)
  ``skipped``           records.Skipped           (left out by an option, e.g. --charset)
  ``labels``            one list of class names   (label id -> name; [] when unlabeled)
  ``read``              one int                   (records read = written + rejected)
Metrics (namespace ``data_prep``, where the runner reports them): ``read``, ``rejected``,
``rejected_<reason>``, ``skipped``, ``written``, ``written_<split>``.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Tuple

import apache_beam as beam
from apache_beam import pvalue

from data_prep.options import PrepOptions
from data_prep.records import BadRecord, ClassKey, Decoded, Record, Reject, Skipped, clean_text
from data_prep.source import Source
from data_prep.sources import SOURCES
from lsgan_tf import example_schema

NAMESPACE = "data_prep"
REJECTS = "rejects"
SKIPPED = "skipped"
LABELS = "labels"
READ = "read"
DECODE_ERROR = "decode_error"


def make_source(source_name: str, input_path: str, options: PrepOptions) -> Source:
    """The registered source ``source_name`` (``KeyError`` naming the known ones on a miss)."""
    return SOURCES.get(source_name)(input_path, options)


class _ReadFn(beam.DoFn):
    """Shard -> the ``Record``, ``Reject`` and ``Skipped`` items ``Source.read`` yields."""

    def __init__(self, source_name: str, input_path: str, options: PrepOptions):
        self._args = (source_name, input_path, options)
        self._read = beam.metrics.Metrics.counter(NAMESPACE, "read")
        self._skipped = beam.metrics.Metrics.counter(NAMESPACE, "skipped")

    def setup(self):
        self._source = make_source(*self._args)
        self._source.setup()

    def process(self, shard):
        for item in self._source.read(shard):
            item = _cleaned(item)
            if isinstance(item, Skipped):
                self._skipped.inc()
            else:
                self._read.inc()
                if isinstance(item, Reject):
                    _count_reject(item)
            yield item

    def teardown(self):
        self._source.teardown()


def _cleaned(item):
    """``item`` with its id (and a reject's detail, a record's class name) made clean text."""
    changes = {}
    if not item.id.isprintable():
        changes["id"] = clean_text(item.id)
    if isinstance(item, Reject) and not item.detail.isprintable():
        changes["detail"] = clean_text(item.detail)
    if isinstance(item, Record) and isinstance(item.label, ClassKey) and \
            not item.label.name.isprintable():
        changes["label"] = item.label._replace(name=clean_text(item.label.name))
    return item._replace(**changes) if changes else item


def _count_reject(reject: Reject) -> None:
    beam.metrics.Metrics.counter(NAMESPACE, "rejected").inc()
    beam.metrics.Metrics.counter(NAMESPACE, f"rejected_{reject.reason}").inc()


class _DecodeFn(beam.DoFn):
    """``Record`` -> ``Decoded`` or ``Reject``; a ``Reject`` or ``Skipped`` passes unchanged."""

    def __init__(self, source_name: str, input_path: str, options: PrepOptions):
        self._args = (source_name, input_path, options)

    def setup(self):
        self._source = make_source(*self._args)

    def process(self, item):
        if not isinstance(item, Record):
            yield item
            return
        try:
            image = self._source.decode(item)
        except BadRecord as error:
            reject = Reject(item.id, error.reason, clean_text(error.detail))
        except Exception as error:  # pylint: disable=broad-except
            logging.getLogger(__name__).warning("decode of %s failed", item.id, exc_info=True)
            reject = Reject(item.id, DECODE_ERROR,
                            clean_text(f"{type(error).__name__}: {error}")[:500])
        else:
            yield Decoded(item.id, image, item.label, item.split)
            return
        _count_reject(reject)
        yield reject


class _ToExampleFn(beam.DoFn):
    """``Decoded`` (int label) -> ``(split, serialized tf.train.Example)``, the split the
    source assigned or else ``split_of(id)``; written without TensorFlow, so workers do not pay
    its import."""

    def __init__(self, eval_fraction: float):
        self._eval_fraction = eval_fraction
        self._written = beam.metrics.Metrics.counter(NAMESPACE, "written")
        self._per_split = {split: beam.metrics.Metrics.counter(NAMESPACE, f"written_{split}")
                           for split in example_schema.SPLITS}

    def process(self, decoded: Decoded):
        split = decoded.split or example_schema.split_of(decoded.id, self._eval_fraction)
        if split not in self._per_split:
            raise ValueError(f"record {decoded.id!r}: unknown split {split!r}")
        self._written.inc()
        self._per_split[split].inc()
        yield split, example_schema.serialize_example(decoded.image, decoded.label, decoded.id)


def _is(item, kind: type) -> bool:
    return isinstance(item, kind)


class _Vocabulary(beam.CombineFn):
    """Class keys (as plain tuples, which code deterministically) -> one sorted list."""

    def create_accumulator(self):
        return set()

    def add_input(self, accumulator, keys: Tuple[tuple, ...]):
        accumulator.update(keys)
        return accumulator

    def merge_accumulators(self, accumulators):
        return set().union(*accumulators)

    def extract_output(self, accumulator) -> List[tuple]:
        return sorted(accumulator)


def _with_label_ids(joined):
    """``(class key, {"label": [id], "decoded": [Decoded...]})`` -> Decoded with int labels."""
    _, group = joined
    (label,) = group["label"]
    for decoded in group["decoded"]:
        yield decoded._replace(label=label)


@beam.ptransform_fn
def _LabelledByVocabulary(decoded: pvalue.PCollection, pbegin: pvalue.PBegin):
    """Decoded records with ``ClassKey`` labels -> (int-labelled records, class names): the
    vocabulary is every key seen, sorted, and a record's label its rank there."""
    keys = ((pbegin | "NoClasses" >> beam.Create([()]),  # one vocabulary even when empty
             decoded | "ClassKeys" >> beam.Map(lambda item: (tuple(item.label),)))
            | "AllKeys" >> beam.Flatten())
    vocabulary = keys | "Vocabulary" >> beam.CombineGlobally(_Vocabulary()).without_defaults()
    names = vocabulary | "ClassNames" >> beam.Map(lambda ordered: [name for _, name in ordered])
    label_ids = vocabulary | "LabelIds" >> beam.FlatMap(
        lambda ordered: [(key, label) for label, key in enumerate(ordered)])
    by_class = decoded | "ByClass" >> beam.Map(lambda item: (tuple(item.label), item))
    labelled = ({"label": label_ids, "decoded": by_class}
                | "JoinByClass" >> beam.CoGroupByKey()
                | "Labelled" >> beam.FlatMap(_with_label_ids))
    return labelled, names


@beam.ptransform_fn
def ReadAndPrepare(pbegin: pvalue.PBegin, source_name: str, input_path: str,
                   options: PrepOptions) -> Dict[str, pvalue.PCollection]:
    """Reads ``input_path`` with the source ``source_name``; see the module docstring.

    The source's plan runs here, while the pipeline is built: an unknown source (KeyError) or
    an unusable input (``InputError``) fails before anything runs.
    """
    plan = make_source(source_name, input_path, options).plan()
    logging.getLogger(__name__).info("lsgan prep: %s: %s", source_name, plan.description)
    args = (source_name, input_path, options)

    items = (pbegin
             | "ListInputs" >> beam.Create(plan.shards)
             | "Read" >> beam.ParDo(_ReadFn(*args))
             | "DecodeAndResize" >> beam.ParDo(_DecodeFn(*args)))
    decoded = items | "Decoded" >> beam.Filter(_is, Decoded)
    if plan.discover_labels:
        decoded, labels = decoded | "ClassIds" >> _LabelledByVocabulary(pbegin)
    else:
        labels = pbegin | "ClassNames" >> beam.Create([[clean_text(name)
                                                        for name in plan.class_names]])
    examples = decoded | "ToExample" >> beam.ParDo(_ToExampleFn(options.eval_fraction))
    outputs = {split: examples | f"Only{split.title()}" >> beam.FlatMap(
                   lambda example, s=split: [example[1]] if example[0] == s else [])
               for split in example_schema.SPLITS}
    read_count = ((pbegin | "NoneRead" >> beam.Create([0]),  # one count even when empty
                   items | "Reads" >> beam.Map(lambda item: int(not isinstance(item, Skipped))))
                  | "AllReads" >> beam.Flatten()
                  | "CountRead" >> beam.CombineGlobally(sum).without_defaults())
    outputs.update({REJECTS: items | "Rejects" >> beam.Filter(_is, Reject),
                    SKIPPED: items | "Skipped" >> beam.Filter(_is, Skipped),
                    LABELS: labels, READ: read_count})
    return outputs
