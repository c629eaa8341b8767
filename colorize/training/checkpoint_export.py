"""A training checkpoint's model weights as a ``.weights.h5`` file, the form presets ship in
(``export_checkpoint``)."""
from pathlib import Path

import tensorflow as tf

from colorize.errors import TrainingError
from colorize.io import write_with
from colorize.training.checkpoints import restore, restore_newest


def export_checkpoint(config, checkpoint, out_path):
    """Write the model weights of a training checkpoint to a ``.weights.h5`` file, atomically; returns the path.

    ``checkpoint`` is a checkpoint prefix (``WORKDIR/checkpoints/ckpt-N``), a checkpoints folder or a training
    workdir; for a folder, its newest checkpoint that restores is used (a line says which newer ones were skipped).
    """
    from colorize.model import build_model
    model = build_model(config.model)
    holder = tf.train.Checkpoint(model=model)
    path = Path(checkpoint)
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        if restore_newest(holder, folder, config.to_dict()) is None:
            raise TrainingError(f"no checkpoint found in {checkpoint}")
    else:
        try:
            restore(holder, path)
        except Exception as err:  # TensorFlow's OpErrors, ValueErrors and AssertionErrors for bad files
            first = (getattr(err, "message", None) or str(err) or type(err).__name__).strip().splitlines()[0]
            raise TrainingError(f"cannot read checkpoint {path}: {first[:300]}") from None
    return write_with(out_path, model.save_weights, overwrite=True)
