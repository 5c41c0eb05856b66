"""``mmmultilabel.inverseform`` stands apart from the core: ``import
mmmultilabel`` loads neither it nor mmseg and registers none of its modules,
and an InverseForm config loads it through ``custom_imports``."""

import subprocess
import sys
import textwrap

from inverseform_utils import IFNET_CONFIG, REPO

import mmmultilabel.inverseform

M2F_CONFIG = (
    f'{REPO}/configs/inverseform/'
    'mask2former-attr-inverseform_r18_1xb8-1500i_shapes.py'
)

SCRIPT = textwrap.dedent("""
    import sys

    import mmmultilabel
    from mmdet.registry import DATASETS, METRICS, MODELS
    from mmengine.config import Config

    ifnet_config, m2f_config, ifnet_checkpoint, names = sys.argv[1:5]
    names = names.split(',')

    def registered():
        return sorted(
            n for n in names
            for r in (MODELS, DATASETS, METRICS) if n in r.module_dict
        )

    def loaded():
        return sorted(
            m for m in sys.modules
            if m.startswith('mmmultilabel.inverseform')
            or m == 'mmseg' or m.startswith('mmseg.')
        )

    print('core loaded:', loaded())
    print('core registered:', registered())

    cfg = Config.fromfile(ifnet_config)
    print('imports:', cfg.custom_imports.imports)
    model = MODELS.build(cfg.model)
    print('model:', type(model).__module__, type(model).__name__)
    m2f = Config.fromfile(m2f_config)
    print('imports:', m2f.custom_imports.imports)
    head = MODELS.get(m2f.model.panoptic_head.type)
    print('head:', head.__module__, head.__name__)
    loss_cfg = m2f.model.panoptic_head.loss_boundary
    loss = MODELS.build(dict(loss_cfg, checkpoint=ifnet_checkpoint))
    print('loss:', type(loss).__module__, type(loss).__name__)
    print('registered:', registered())
""")


def test_core_import_leaves_inverseform_to_custom_imports(random_ifnet):
    names = sorted(mmmultilabel.inverseform.__all__)
    proc = subprocess.run(
        [
            sys.executable,
            '-c',
            SCRIPT,
            IFNET_CONFIG,
            M2F_CONFIG,
            random_ifnet,
            ','.join(names),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert 'core loaded: []' in lines, proc.stdout
    assert 'core registered: []' in lines, proc.stdout
    imports = "imports: ['mmmultilabel', 'mmmultilabel.inverseform']"
    assert lines.count(imports) == 2, proc.stdout
    model = 'model: mmmultilabel.inverseform.regressor InverseFormRegressor'
    assert model in lines, proc.stdout
    assert (
        'head: mmmultilabel.inverseform.head BoundaryAttrMask2FormerHead'
        in lines
    )
    assert 'loss: mmmultilabel.inverseform.loss InverseFormLoss' in lines
    assert f'registered: {names}' in lines, proc.stdout
