"""Apache Beam preprocessing: real dataset formats -> the TFRecords of the data contract.

Layers, each its own module:
  options        ``PrepOptions``, the frozen settings of one run
  records        what flows between the steps: ``Record``, ``Decoded``, ``Reject``, ``Skipped``
  images         Pillow decoding (magic bytes), shorter-side crop, pad-to-square, channels
  source         the ``Source`` contract a plugin implements (plan, setup, read, decode)
  files          input files named by a path, a directory or a glob, via Beam's FileSystems
  sources/       one plugin per format, registered by name in ``sources.SOURCES``
  prepare        ``ReadAndPrepare``: PBegin -> tf.Examples tagged by split + dead letters
  write          ``WritePrepared``: the output layout (shards, labels.txt, stats.json, rejects/)
  command        ``lsgan prep``
  testdata       writers of small files in the true formats (LMDB, .gnt, IDX) for tests

The two transforms are what a TFX ExampleGen reuses; ``command`` only wires them to flags.
"""
