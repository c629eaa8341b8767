"""The demo: colorize greyscale versions of the colour photos shipped with scikit-image and show the result.

Writes ``demo.png`` (one row per photo: greyscale input | colorized | original colour), each colorized photo
and its greyscale input, and ``metrics.json``; returns and prints the metrics beside the grey baseline.
"""
import json
from pathlib import Path

from colorize import io as imageio
from colorize.data import skimage_photos
from colorize.evaluation.scoring import evaluate, format_table, json_ready
from colorize.io import write_text


def run_demo(colorizer, outdir="colorize-demo", photos=None, out=None):
    """Colorize the demo photos' greyscale versions with ``colorizer`` into ``outdir``; returns the metrics
    (``evaluate``'s dict, plus ``files``: the paths written). With ``out`` (a stream), the table is printed
    there too."""
    outdir = Path(outdir)
    photos = skimage_photos() if photos is None else list(photos)
    written = []

    def save(name, grey, output, truth):
        written.append(str(imageio.save_png(output, outdir / "colorized" / f"{name}.png", overwrite=True)))
        written.append(str(imageio.save_png(grey, outdir / "grey" / f"{name}.png", overwrite=True)))

    result = evaluate(colorizer, photos, sheet_path=outdir / "demo.png", sheet_count=len(photos), on_image=save)
    metrics_path = outdir / "metrics.json"
    write_text(metrics_path, json.dumps(json_ready(result), indent=2, allow_nan=False) + "\n", overwrite=True)
    result["files"] = [str(outdir / "demo.png"), str(metrics_path)] + written
    if out is not None:
        print(format_table(result, f"{colorizer.name}: {len(photos)} scikit-image photos, colorized from their "
                                   "greyscale versions"), file=out)
        print(f"\nside by side (greyscale | colorized | original): {outdir / 'demo.png'}\n"
              f"colorized photos: {outdir / 'colorized'}/, their greyscale inputs: {outdir / 'grey'}/\n"
              f"per-photo metrics: {metrics_path}", file=out)
    return result
