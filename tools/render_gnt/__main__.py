"""``python -m tools.render_gnt``: write handwriting-style ``.gnt`` files (see the package doc)."""
from __future__ import annotations

import argparse
import sys
import time

from tools.render_gnt.render import NoFontsError, pick_classes, preview, render_dataset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", required=True, help="folder for writer_NNNN.gnt files")
    parser.add_argument("--classes", type=int, default=40,
                        help="GB2312 level-1 characters, spread over the code table "
                             "(3755 or more: all of them)")
    parser.add_argument("--writers", type=int, default=60, help="one .gnt file per writer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preview", default="",
                        help="also write a PNG: 12 writers x the first 16 classes")
    args = parser.parse_args(argv)
    t0 = time.time()

    def progress(done, total, samples):
        if done == total or done % max(1, total // 10) == 0:
            print(f"[render_gnt] writer {done}/{total}: {samples:,} samples "
                  f"({time.time() - t0:.0f}s)", flush=True)

    try:
        manifest = render_dataset(args.output, args.classes, args.writers, args.seed, progress)
    except NoFontsError as error:
        print(f"render_gnt: {error}", file=sys.stderr)
        return 2
    print(f"[render_gnt] {manifest['samples']:,} samples of {manifest['classes']} characters "
          f"by {manifest['writers']} writers ({len(manifest['fonts'])} fonts) in {args.output}")
    if args.preview:
        chars = pick_classes(args.classes)[:16]
        print(f"[render_gnt] preview {preview(args.preview, chars, list(range(12)), args.seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
