"""``colorize serve``: the local web app (``app``: the page and its HTTP API around one ``Colorizer``; ``requests``:
parsing uploads and form fields; ``server``: binding and running it). Needs the ``web`` extra."""
from colorize._lazy import lazy_door

_NAMES = {"create_app": "app", "serve_forever": "server", "BackgroundServer": "server", "exposure_warning": "server",
          "DEFAULT_MAX_UPLOAD_BYTES": "app",
          "MAX_UPLOAD_PIXELS": "engine"}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)
