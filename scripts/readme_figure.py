"""The README's first picture: bundled photos in grey, colorized automatically by the default preset, and with a
few colour hints by the hint preset (the hints are points sampled from the photo's own colours, as a user who
remembers them would click; drawn as white-ringed dots), beside the original.

    python scripts/readme_figure.py -o docs/quickstart.png [--hints 5]
"""
import argparse

import numpy as np
import skimage.data
from PIL import Image, ImageDraw

import colorize
from colorize.evaluation.hint_sampling import evaluation_hints
from colorize.evaluation.sheet import contact_sheet
from colorize.io import atomic

PHOTOS = ("astronaut", "chelsea", "coffee")


def _with_dots(rgb, hints):
    im = Image.fromarray(rgb)
    draw = ImageDraw.Draw(im)
    r = max(4, round(max(rgb.shape[:2]) / 90))
    for h in hints:
        x, y = h["x"], h["y"]
        draw.ellipse((x - r - 2, y - r - 2, x + r + 2, y + r + 2), fill=(255, 255, 255))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=h["color"])
    return np.asarray(im)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", default="docs/quickstart.png")
    parser.add_argument("--hints", type=int, default=5, help="hints per photo (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    automatic = colorize.load_pretrained()
    steered = colorize.Colorizer.from_preset("bigru_fusion_64_hints")
    rows = []
    for i, name in enumerate(PHOTOS):
        truth = getattr(skimage.data, name)()[..., :3]
        grey = np.repeat(np.asarray(Image.fromarray(truth).convert("L"))[..., None], 3, axis=-1)
        hints = evaluation_hints(truth, args.hints, seed=args.seed, index=i)
        rows.append([grey, automatic.colorize(grey), _with_dots(steered.colorize(grey, hints=hints), hints), truth])
    sheet = contact_sheet(rows, height=200, labels=("greyscale input", "automatic", f"{args.hints} hints", "original"))
    atomic.write_with(args.output, lambda tmp: Image.fromarray(sheet).save(tmp, format="PNG"), overwrite=True)
    print(args.output)


if __name__ == "__main__":
    main()
