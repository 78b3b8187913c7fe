"""The three example loops print the same lines with lrkit as with torch (only the import
changes): learning rates, validation losses, the early-stopping epoch, the final weights."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


@pytest.mark.parametrize("script", ["step_lr.py", "exponential_lr.py", "cosine_early_stopping.py"])
def test_examples_print_torchs_output(script):
    run = lambda *extra: subprocess.run(  # noqa: E731
        [sys.executable, script, *extra], cwd=EXAMPLES, capture_output=True, text=True, check=True
    ).stdout
    theirs, ours = run(), run("--lrkit")
    assert ours == theirs
    assert theirs.count("Learning Rate") >= 10
