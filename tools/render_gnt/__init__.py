"""Render GB2312 level-1 characters from Chinese fonts into CASIA-HWDB ``.gnt`` files.

    .venv/bin/python -m tools.render_gnt --output DIR [--classes 40] [--writers 60] [--seed 0]
        [--preview PNG]

See ``tools/render_gnt/render.py`` for what a "writer" is and which distortions are applied.
"""
from tools.render_gnt.render import (Renderer, available_faces, gb2312_level1, pick_classes,
                                     preview, render_dataset)

__all__ = ["Renderer", "available_faces", "gb2312_level1", "pick_classes", "preview",
           "render_dataset"]
