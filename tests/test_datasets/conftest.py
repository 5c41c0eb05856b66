"""Fixtures of the data set tests (helpers in ``attr_data_utils``)."""

import json

import pytest
from attr_data_utils import (
    CLASSES,
    FIVE_SHAPES,
    GROUPS,
    run_tool,
    write_labelme,
)


@pytest.fixture(scope='session')
def five_instances(tmp_path_factory) -> dict:
    """labelme -> attribute COCO through the converter's command line.

    Returns:
        dict: ``img_dir`` and ``ann_file`` of the converted data.
    """
    root = tmp_path_factory.mktemp('five')
    img_dir = root / 'images'
    img_dir.mkdir()
    write_labelme(str(img_dir), 'five', FIVE_SHAPES)
    write_labelme(str(img_dir), 'empty', [])
    spec = root / 'spec.json'
    spec.write_text(
        json.dumps(dict(categories=list(CLASSES), attribute_groups=GROUPS))
    )
    ann_file = root / 'ann.json'
    proc = run_tool(
        'tools/dataset_converters/labelme2coco.py',
        img_dir,
        ann_file,
        '--spec',
        spec,
        '--no-progress',
    )
    assert proc.returncode == 0, proc.stderr
    return dict(img_dir=str(img_dir), ann_file=str(ann_file))
