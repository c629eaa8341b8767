"""What a predict job tells its user: a line per skip and per failure (photos already done in one line), a
progress bar, the ``Summary``, and ``OUTDIR/failed.jsonl`` listing what failed and why."""
import contextlib
import dataclasses
import json
import sys
import time

from colorize.errors import first_line
from colorize.io import atomic

FAILED = "failed.jsonl"


@dataclasses.dataclass
class Summary:
    """What a run did: ``written`` and ``skipped`` counts, ``failed`` as ``[(path, reason)]``; ``seconds`` in all,
    ``startup_seconds`` until the first photo came back."""
    written: int = 0
    skipped: int = 0
    failed: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    startup_seconds: float = None

    def __str__(self):
        return f"written {self.written}, skipped {self.skipped}, failed {len(self.failed)}"


class Tally:
    """Counts into a ``Summary`` and says each skip and failure: to ``say(line)`` if given, else on ``stream``
    (above the progress bar while one shows)."""

    def __init__(self, say=None, progress=True):
        self.summary, self.say, self.progress = Summary(), say, progress
        self.stream, self.bar, self.start = sys.stderr, None, time.monotonic()

    def line(self, text):
        if self.say is not None:
            self.say(text)
        elif self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def skip(self, what, why):
        self.line(f"colorize: skipped {what}: {why}")
        self.summary.skipped += 1

    def fail(self, what, why):
        why = first_line(why)
        self.line(f"colorize: failed {what}: {why}")
        self.summary.failed.append((str(what), why))

    def already_done(self, count):
        """Photos whose outputs a previous run wrote: one line, not one per photo."""
        self.summary.skipped += count
        self.line(f"colorize: {count} already done (pass --overwrite to redo them)")

    def count(self, outcome):
        """One photo's ``Outcome`` from an executor."""
        if self.summary.startup_seconds is None:
            self.summary.startup_seconds = time.monotonic() - self.start
        for line in outcome.lines:
            self.line(line)
        if outcome.status == "written":
            self.summary.written += 1
        elif outcome.status == "skipped":
            self.skip(outcome.name, outcome.reason)
        else:
            self.fail(outcome.name, outcome.reason)
        if self.bar is not None:
            self.bar.update(1)

    @contextlib.contextmanager
    def progress_bar(self, total):
        """``with tally.progress_bar(total):`` photos done of ``total`` and photos a second, while it runs."""
        from tqdm import tqdm
        with tqdm(total=total, unit="img", disable=not self.progress, file=self.stream) as self.bar:
            try:
                yield
            finally:
                self.bar = None

    def write_failed(self, folder):
        """``folder/failed.jsonl``: one ``{"path", "reason"}`` line per failure, rewritten (emptied) when a re-run of
        a folder that has one fails nothing. Not written into a folder the run never made."""
        path = folder / FAILED
        if folder.is_dir() and (self.summary.failed or path.exists()):
            atomic.write_text(path, "".join(json.dumps({"path": f, "reason": why}) + "\n"
                                            for f, why in self.summary.failed), overwrite=True)

    def finish(self):
        self.summary.seconds = time.monotonic() - self.start
        return self.summary
