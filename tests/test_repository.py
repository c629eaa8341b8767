"""What a checkout keeps out of git: the folders the README's own commands write into it (issue 33.7)."""
import shutil
import subprocess

import pytest
from conftest import REPO


@pytest.mark.parametrize("written", ["colorize-demo/demo.png", "runs/my_photos/final-step3.weights.h5"])
def test_the_readme_commands_outputs_are_ignored(written):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", "-q", written], cwd=REPO)
    assert done.returncode == 0, f"{written} (written by a README command run in the checkout) is not in .gitignore"
