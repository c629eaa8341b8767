"""CSS colour names for hints (``red``, ``navy``, ``forestgreen``): a name -> its (r, g, b), and for a name that
is not one, the near names to suggest. The table is the CSS Color Module's 148 named colours, as Pillow ships
them (``PIL.ImageColor.colormap``)."""
import difflib

from colorize.errors import InputError


def _table():
    from PIL import ImageColor
    return ImageColor.colormap


def _key(name):
    """How a name is looked up: case, spaces, hyphens and underscores do not matter ("Forest Green")."""
    return "".join(ch for ch in name.lower() if ch not in " -_")


def named_rgb(name, what):
    """A CSS colour name -> (r, g, b) 0-255; ``InputError`` naming ``what``, with near names, for anything else."""
    table = _table()
    key = _key(name)
    if key in table:
        value = table[key].lstrip("#")
        return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))
    near = difflib.get_close_matches(key, list(table), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(near)}?" if near else " (e.g. red, navy, forestgreen)"
    raise InputError(f"{what}: colour {name!r} is neither #rrggbb nor a CSS colour name{hint}")
