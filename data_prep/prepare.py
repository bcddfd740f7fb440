"""``ReadAndPrepare``: any registered source -> tf.Examples tagged by split, plus dead letters.

    outputs = pipeline | ReadAndPrepare("hwdb", "/data/HWDB1.0", PrepOptions(charset=...))

Steps (labelled as in the Beam UI):
  ListInputs       the source's plan, one element per shard (reshuffled over the workers)
  Read             ``Source.read`` per shard, in ``setup``-opened resources -> Record
  DecodeAndResize  ``Source.decode`` per record -> Decoded
  Vocabulary       (sources with discovered labels) every ClassKey seen, sorted: a side input
  ToExampleBySplit ``serialize_example`` and ``split_of(id, eval_fraction)`` -> one output per split
Bad input leaves ``Read`` or ``DecodeAndResize`` on their ``rejects`` output instead; an
unexpected exception in a source's ``decode`` is a reject too (``decode_error``), so one bad
record never stops a run. Ids, reject details and class names a source did not make clean
(a third-party plugin's) are made single-line UTF-8 by ``records.clean_text`` before they
reach Beam's coders and the output files.

``outputs`` is a dict of PCollections:
  ``train``, ``eval``   serialized tf.train.Example bytes (example_schema.TRAIN / EVAL)
  ``rejects``           records.Reject            (the dead letters of both steps)
  ``skipped``           records.Skipped           (left out by an option, e.g. --charset)
  ``labels``            one list of class names   (label id -> name; [] when unlabeled)
  ``read``              one int                   (records read = written + rejected)
Metrics (namespace ``data_prep``): ``read``, ``rejected``, ``rejected_<reason>``, ``skipped``,
``written``, ``written_<split>``.
"""
from __future__ import annotations

import logging
from typing import Dict

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
    """Shard -> ``Record`` (main), ``Reject`` (``rejects``), ``Skipped`` (``skipped``)."""

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
                yield pvalue.TaggedOutput(SKIPPED, item)
                continue
            self._read.inc()
            if isinstance(item, Reject):
                _count_reject(item)
                yield pvalue.TaggedOutput(REJECTS, item)
            else:
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
    """``Record`` -> ``Decoded`` (main) or ``Reject`` (``rejects``)."""

    def __init__(self, source_name: str, input_path: str, options: PrepOptions):
        self._args = (source_name, input_path, options)

    def setup(self):
        self._source = make_source(*self._args)

    def process(self, record: Record):
        try:
            image = self._source.decode(record)
        except BadRecord as error:
            reject = Reject(record.id, error.reason, clean_text(error.detail))
        except Exception as error:  # pylint: disable=broad-except
            logging.getLogger(__name__).warning("decode of %s failed", record.id, exc_info=True)
            reject = Reject(record.id, DECODE_ERROR,
                            clean_text(f"{type(error).__name__}: {error}")[:500])
        else:
            yield Decoded(record.id, image, record.label)
            return
        _count_reject(reject)
        yield pvalue.TaggedOutput(REJECTS, reject)


class _ToExampleBySplitFn(beam.DoFn):
    """``Decoded`` -> serialized tf.train.Example on the output of its split (``split_of(id)``);
    written without TensorFlow, so workers do not pay its import."""

    def __init__(self, eval_fraction: float):
        self._eval_fraction = eval_fraction
        self._written = beam.metrics.Metrics.counter(NAMESPACE, "written")
        self._per_split = {split: beam.metrics.Metrics.counter(NAMESPACE, f"written_{split}")
                           for split in example_schema.SPLITS}

    def process(self, decoded: Decoded, vocabulary: Dict[ClassKey, int] = None):
        label = vocabulary[decoded.label] if vocabulary is not None else decoded.label
        split = example_schema.split_of(decoded.id, self._eval_fraction)
        self._written.inc()
        self._per_split[split].inc()
        yield pvalue.TaggedOutput(
            split, example_schema.serialize_example(decoded.image, label, decoded.id))


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

    shards = pbegin | "ListInputs" >> beam.Create(plan.shards)
    read = shards | "Read" >> beam.ParDo(_ReadFn(*args)).with_outputs(REJECTS, SKIPPED,
                                                                        main="records")
    decoded = read.records | "DecodeAndResize" >> beam.ParDo(_DecodeFn(*args)).with_outputs(
        REJECTS, main="decoded")
    side_inputs = {}
    if plan.discover_labels:
        keys = (decoded.decoded
                | "ClassKeys" >> beam.Map(lambda item: tuple(item.label))  # plain tuples code
                | "DistinctClasses" >> beam.Distinct()                    # deterministically
                | "Vocabulary" >> beam.combiners.ToList()
                | "SortByKey" >> beam.Map(sorted))
        labels = keys | "ClassNames" >> beam.Map(lambda ordered: [name for _, name in ordered])
        label_ids = keys | "LabelIds" >> beam.Map(
            lambda ordered: {key: label for label, key in enumerate(ordered)})
        side_inputs["vocabulary"] = pvalue.AsSingleton(label_ids)
    else:
        labels = pbegin | "ClassNames" >> beam.Create([[clean_text(name)
                                                        for name in plan.class_names]])
    by_split = decoded.decoded | "ToExampleBySplit" >> beam.ParDo(
        _ToExampleBySplitFn(options.eval_fraction), **side_inputs).with_outputs(
            *example_schema.SPLITS)

    rejects = (read[REJECTS], decoded[REJECTS]) | "Rejects" >> beam.Flatten()
    read_count = ((read.records, read[REJECTS]) | "AllRead" >> beam.Flatten()
                  | "CountRead" >> beam.combiners.Count.Globally())
    outputs = {split: by_split[split] for split in example_schema.SPLITS}
    outputs.update({REJECTS: rejects, SKIPPED: read[SKIPPED], LABELS: labels, READ: read_count})
    return outputs
