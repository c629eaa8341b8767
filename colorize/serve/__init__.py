"""``colorize serve``: the local web app (``app``: the page and its HTTP API around one ``Colorizer``; ``requests``:
parsing uploads and form fields; ``server``: binding and running it). Needs the ``web`` extra."""
from colorize._lazy import lazy_door

_NAMES = {"create_app": "app", "BackgroundServer": "server", "serve_forever": "server", "bind": "server",
          "url_of": "server", "exposure_warning": "server"}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)
