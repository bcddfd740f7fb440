"""Handwriting-style GB2312 level-1 characters rendered from fonts, written as CASIA ``.gnt`` files.

CASIA-HWDB cannot be downloaded here, so this makes stand-in data in exactly its file format
(docs/PAPER.md section 4; the bytes come from ``data_prep.testdata.gnt_sample``): one ``.gnt``
file per "writer", samples back to back, each a tight grayscale crop with background 255.

A writer is a font face from Debian's Chinese font packages (``make fonts``) plus a writer
style drawn once from the writer's seed: stroke weight (dilation / erosion), slant, width
scale, ink darkness. Every sample then gets its own random affine map (rotation, scale, shear,
translation) and an elastic distortion (Simard et al. 2003: a random displacement field
smoothed by a Gaussian), so no two samples of a character are the same even for one font.

Everything is drawn from ``seed``: the same arguments give the same bytes.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

# (file, face index) of the simplified-Chinese faces in Debian's packages, most handwriting-like
# first: AR PL UKai (kaishu, brush), AR PL UMing (mingti), WenQuanYi Zen Hei, WenQuanYi Micro Hei.
FONT_FACES: Tuple[Tuple[str, int, str], ...] = (
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0, "fonts-arphic-ukai"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0, "fonts-arphic-uming"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "fonts-wqy-zenhei"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "fonts-wqy-microhei"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2, "fonts-noto-cjk"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2, "fonts-noto-cjk"),
)
GB2312_LEVEL1_LEADS = range(0xB0, 0xD8)
RENDER_SIZE = 64      # font size in pixels
CANVAS = 112          # square canvas the glyph is drawn and distorted on
BACKGROUND = 255


class NoFontsError(RuntimeError):
    """None of the font files is installed."""


def gb2312_level1() -> List[str]:
    """The 3,755 GB2312 level-1 characters in code order (B0A1 .. D7F9)."""
    chars = []
    for lead in GB2312_LEVEL1_LEADS:
        for trail in range(0xA1, 0xFF):
            if lead == 0xD7 and trail > 0xF9:
                break
            chars.append(bytes([lead, trail]).decode("gb2312"))
    return chars


def pick_classes(count: int) -> List[str]:
    """``count`` level-1 characters spread evenly over the code table (all of them for >= 3,755)."""
    chars = gb2312_level1()
    if count >= len(chars):
        return chars
    index = np.unique(np.linspace(0, len(chars) - 1, count).round().astype(int))
    return [chars[i] for i in index]


@dataclasses.dataclass(frozen=True)
class Face:
    path: str
    index: int
    package: str
    name: str


def available_faces(faces: Sequence[Tuple[str, int, str]] = FONT_FACES) -> List[Face]:
    """The installed faces among ``faces``; ``NoFontsError`` naming ``make fonts`` if none is."""
    found = []
    for path, index, package in faces:
        if os.path.exists(path):
            font = ImageFont.truetype(path, RENDER_SIZE, index=index)
            found.append(Face(path, index, package, " ".join(font.getname())))
    if not found:
        raise NoFontsError("no Chinese font installed: run `make fonts` (apt-get install "
                           + " ".join(sorted({f[2] for f in faces})) + ")")
    return found


@dataclasses.dataclass(frozen=True)
class WriterStyle:
    """What stays the same over one writer's samples."""
    face: int           # index into the available faces
    weight: int         # > 0 dilate the strokes by this many pixels, < 0 erode
    slant: float        # horizontal shear
    width_scale: float  # x scale relative to y
    ink: int            # darkest grey of the strokes (0 = black)
    elastic_alpha: float
    jitter: float       # how strong the per-sample affine jitter is (1 = default)


def writer_style(writer: int, num_faces: int, seed: int) -> WriterStyle:
    rng = np.random.default_rng([seed, writer, 1])
    return WriterStyle(face=writer % num_faces, weight=int(rng.choice([-1, 0, 0, 1, 1, 2])),
                       slant=float(rng.normal(0.0, 0.12)),
                       width_scale=float(rng.uniform(0.85, 1.12)),
                       ink=int(rng.integers(0, 70)),
                       elastic_alpha=float(rng.uniform(5.0, 11.0)),
                       jitter=float(rng.uniform(0.6, 1.4)))


def glyph_exists(font: ImageFont.FreeTypeFont, char: str, notdef: Optional[bytes]) -> bool:
    """Whether the font draws ``char`` (a non-empty mask that differs from its .notdef box)."""
    mask = font.getmask(char)
    if mask.getbbox() is None:
        return False
    return notdef is None or bytes(mask) != notdef


def _notdef(font: ImageFont.FreeTypeFont) -> Optional[bytes]:
    mask = font.getmask("\ue000")  # private use: no font here has it, so it draws .notdef
    return bytes(mask) if mask.getbbox() is not None else None


def draw_glyph(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    """The glyph centred on a white CANVAS x CANVAS float image, ink = 1.0, paper = 0.0."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font)
    draw.text(((CANVAS - (right - left)) / 2 - left, (CANVAS - (bottom - top)) / 2 - top), char,
              fill=255, font=font)
    return np.asarray(image, np.float32) / 255.0


def distort(ink: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Writer style, a random affine map and an elastic field applied to an ink image."""
    if style.weight > 0:
        ink = ndimage.grey_dilation(ink, size=(style.weight + 1, style.weight + 1))
    elif style.weight < 0:
        ink = ndimage.grey_erosion(ink, size=(2, 2))
    j = style.jitter
    angle = np.deg2rad(rng.normal(0.0, 5.0 * j))
    scale = rng.uniform(0.82, 1.08)
    shear = style.slant + rng.normal(0.0, 0.08 * j)
    sx, sy = scale * style.width_scale * rng.uniform(0.93, 1.07), scale
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    forward = rotation @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])  # (x, y)
    # ndimage works in (row, col) = (y, x): output coordinate o maps from input M o + offset.
    inverse_xy = np.linalg.inv(forward)
    matrix = inverse_xy[::-1, ::-1]
    centre = np.array([CANVAS / 2.0, CANVAS / 2.0])
    shift = rng.normal(0.0, 2.0 * j, 2)
    offset = centre - matrix @ (centre + shift)
    ink = ndimage.affine_transform(ink, matrix, offset=offset, order=1, cval=0.0)
    # Elastic: smooth random displacements (sigma 5 px at this canvas), amplitude alpha.
    dy = ndimage.gaussian_filter(rng.uniform(-1, 1, ink.shape), 5.0) * style.elastic_alpha * 5.0
    dx = ndimage.gaussian_filter(rng.uniform(-1, 1, ink.shape), 5.0) * style.elastic_alpha * 5.0
    rows, cols = np.meshgrid(np.arange(CANVAS), np.arange(CANVAS), indexing="ij")
    ink = ndimage.map_coordinates(ink, [rows + dy, cols + dx], order=1, cval=0.0)
    return np.clip(ink, 0.0, 1.0)


def to_sample(ink: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Ink [0, 1] -> uint8 grey (background 255), cropped to the ink plus a small margin, like a
    HWDB sample (each has its own width and height)."""
    pixels = BACKGROUND - ink * (BACKGROUND - style.ink - rng.uniform(0, 25))
    pixels = np.clip(np.round(pixels + rng.normal(0, 2.0, ink.shape) * (ink > 0.05)), 0, 255)
    rows, cols = np.nonzero(ink > 0.1)
    if len(rows) == 0:
        return pixels.astype(np.uint8)
    margin = int(rng.integers(0, 4))
    top, bottom = max(0, rows.min() - margin), min(CANVAS, rows.max() + 1 + margin)
    left, right = max(0, cols.min() - margin), min(CANVAS, cols.max() + 1 + margin)
    return pixels[top:bottom, left:right].astype(np.uint8)


@dataclasses.dataclass
class Renderer:
    """Renders (writer, character) samples; fonts are opened once."""
    seed: int = 0
    faces: Optional[List[Face]] = None

    def __post_init__(self):
        self.faces = self.faces or available_faces()
        self.fonts = [ImageFont.truetype(f.path, RENDER_SIZE, index=f.index) for f in self.faces]
        self.notdefs = [_notdef(font) for font in self.fonts]
        self._glyphs: Dict[Tuple[int, str], Optional[np.ndarray]] = {}

    def glyph(self, face: int, char: str) -> Optional[np.ndarray]:
        key = (face, char)
        if key not in self._glyphs:
            font = self.fonts[face]
            self._glyphs[key] = (draw_glyph(font, char)
                                 if glyph_exists(font, char, self.notdefs[face]) else None)
        return self._glyphs[key]

    def style(self, writer: int) -> WriterStyle:
        return writer_style(writer, len(self.fonts), self.seed)

    def sample(self, writer: int, char: str, index: int) -> Optional[np.ndarray]:
        """uint8 [H, W] for ``char`` by ``writer`` (its ``index``-th character), or None when
        the writer's font lacks the character."""
        style = self.style(writer)
        glyph = self.glyph(style.face, char)
        if glyph is None:
            return None
        rng = np.random.default_rng([self.seed, writer, 2, index])
        return to_sample(distort(glyph, style, rng), style, rng)

    def writer_samples(self, writer: int, chars: Sequence[str]
                       ) -> Iterator[Tuple[str, np.ndarray]]:
        for index, char in enumerate(chars):
            pixels = self.sample(writer, char, index)
            if pixels is not None:
                yield char, pixels


def render_dataset(output: str, num_classes: int, num_writers: int, seed: int = 0,
                   progress=None) -> Dict:
    """Writes ``writer_NNNN.gnt`` files (one per writer, every class once, in code order) and
    ``render.json`` (classes, fonts, writer styles, counts) under ``output``."""
    from data_prep.testdata import write_gnt

    os.makedirs(output, exist_ok=True)
    renderer = Renderer(seed)
    chars = pick_classes(num_classes)
    counts, missing = [], {}
    for writer in range(num_writers):
        samples = list(renderer.writer_samples(writer, chars))
        face = renderer.faces[renderer.style(writer).face]
        missing[face.name] = len(chars) - len(samples)
        write_gnt(os.path.join(output, f"writer_{writer:04d}.gnt"), samples)
        counts.append(len(samples))
        if progress:
            progress(writer + 1, num_writers, sum(counts))
    manifest = {
        "classes": len(chars), "characters": "".join(chars), "writers": num_writers,
        "samples": int(sum(counts)), "seed": seed,
        "fonts": [dataclasses.asdict(f) for f in renderer.faces],
        "missing_per_writer_by_font": missing,
        "writer_styles": [dataclasses.asdict(renderer.style(w)) for w in range(num_writers)],
    }
    with open(os.path.join(output, "render.json"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=1)
    return manifest


def preview(output_png: str, chars: Sequence[str], writers: Sequence[int], seed: int = 0) -> str:
    """A grid of rendered samples: one row per writer, one column per character (each padded to
    a square and resized to 48 px), for looking at the distortions."""
    renderer = Renderer(seed)
    size = 48
    sheet = Image.new("L", (len(chars) * (size + 2) + 2, len(writers) * (size + 2) + 2), 128)
    for r, writer in enumerate(writers):
        for c, char in enumerate(chars):
            pixels = renderer.sample(writer, char, c)
            if pixels is None:
                continue
            side = max(pixels.shape)
            square = Image.new("L", (side, side), BACKGROUND)
            square.paste(Image.fromarray(pixels), ((side - pixels.shape[1]) // 2,
                                                   (side - pixels.shape[0]) // 2))
            sheet.paste(square.resize((size, size), Image.BILINEAR),
                        (2 + c * (size + 2), 2 + r * (size + 2)))
    os.makedirs(os.path.dirname(os.path.abspath(output_png)), exist_ok=True)
    sheet.save(output_png)
    return output_png
