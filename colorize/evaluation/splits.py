"""Which photos a choice may look at and which report it (issue 29: a card's figures are not its tuned-on figures).

- tuning: Tiny ImageNet validation ``TUNE_VAL`` (the images training validates on) and the dev photos whose file
  name hashes below one half (``colorize.data.sources.hash_fraction``: the split survives added photos);
- reporting: validation ``REPORT_VAL`` and the other half of the dev photos; no readout, checkpoint or other choice
  is made on them.
"""
from colorize.data import hash_fraction

TUNE_VAL = "validation[:1024]"
REPORT_VAL = "validation[5000:6024]"


def is_tuning_photo(name):
    """Whether a dev photo (its name relative to the folder) belongs to the tuning half."""
    return hash_fraction(name) < 0.5


def split_photos(items):
    """(name, photo) pairs -> (tuning, reporting) lists."""
    items = list(items)
    return [i for i in items if is_tuning_photo(i[0])], [i for i in items if not is_tuning_photo(i[0])]
