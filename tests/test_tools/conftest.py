"""A tiny shapes data set for the end-to-end tool tests."""

import sys

import pytest
from tools_utils import run


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """8 training and 4 validation images made by the real generator."""
    root = tmp_path_factory.mktemp('shapes')
    run(
        [
            sys.executable,
            'tools/dataset_converters/make_shapes.py',
            root / 'shapes',
            '--num-train',
            8,
            '--num-val',
            4,
            '--seed',
            1,
        ]
    )
    return root / 'shapes'
