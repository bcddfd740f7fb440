"""Apache Beam preprocessing: real dataset formats -> the TFRecords of the data contract.

Layers, each its own module:
  options        ``PrepOptions``, the frozen settings of one run
  records        what flows between the steps: ``Record``, ``Decoded``, ``Reject``, ``Skipped``;
                 the text rule of ids and class names (``escape_name``: reversible, one line)
  images         Pillow decoding (magic bytes), shorter-side crop, pad-to-square (memory bounded
                 by the output size), channels; ``MAX_INPUT_SIDE``
  source         the ``Source`` contract a plugin implements (plan, setup, read, decode)
  files          input files named by a path, a directory or a glob, via Beam's FileSystems;
                 what cannot be read as a regular file comes with its reject reason
  sources/       one plugin per format, registered by name in ``sources.SOURCES``
  prepare        ``ReadAndPrepare``: PBegin -> tf.Examples by split + dead letters
  write          ``WritePrepared``: the output layout (shards, labels.txt, stats.json, rejects/)
  command        ``lsgan prep``
  testdata       writers of small files in the true formats (LMDB, .gnt, IDX) for tests

The two transforms are what a TFX ExampleGen reuses; ``command`` only wires them to flags.
"""
