"""Contact sheets: rows of photos side by side (greyscale input | colorized | truth) in one image, for people to
look at what the numbers measure. Used by ``colorize evaluate --sheet`` and the demo."""
import numpy as np

SHEET_HEIGHT = 256
SHEET_GAP = 4
SHEET_HEADER = 24
SHEET_LABELS = ("greyscale input", "colorized", "truth")


def fit_height(rgb_uint8, height):
    """uint8 RGB scaled (Lanczos, aspect kept) to ``height`` rows; returned as is when already that tall."""
    from PIL import Image
    h, w = rgb_uint8.shape[:2]
    width = max(1, round(w * height / h))
    if (h, w) == (height, width):
        return rgb_uint8
    return np.asarray(Image.fromarray(rgb_uint8).resize((width, height), Image.Resampling.LANCZOS))


def contact_sheet(rows, height=SHEET_HEIGHT, gap=SHEET_GAP, labels=SHEET_LABELS):
    """Rows of uint8 RGB panels (e.g. grey, colorized, truth) -> one uint8 image on a white background.

    Each panel is scaled to ``height`` (aspect kept) and centred in a cell as wide as the widest panel, so
    that columns line up; a header strip names the columns. Width: ``len(row) * cell + (len(row) - 1) * gap``.
    """
    rows = [[fit_height(p, height) for p in row] for row in rows]
    columns = max(len(r) for r in rows)
    cell = max(p.shape[1] for r in rows for p in r)
    header = SHEET_HEADER if labels else 0
    sheet = np.full((header + len(rows) * (height + gap) - gap, columns * (cell + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        top = header + r * (height + gap)
        for c, panel in enumerate(row):
            left = c * (cell + gap) + (cell - panel.shape[1]) // 2
            sheet[top:top + height, left:left + panel.shape[1]] = panel
    if labels:
        sheet = _draw_labels(sheet, labels, cell, gap)
    return sheet


def _draw_labels(sheet, labels, cell, gap):
    from PIL import Image, ImageDraw, ImageFont
    im = Image.fromarray(sheet)
    draw = ImageDraw.Draw(im)
    try:
        font = ImageFont.load_default(size=15)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        font = ImageFont.load_default()
    for c, text in enumerate(labels):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        x = c * (cell + gap) + (cell - (right - left)) // 2
        draw.text((x, (SHEET_HEADER - (bottom - top)) // 2 - top), text, fill=(0, 0, 0), font=font)
    return np.asarray(im)
