"""Checkpoints load with torch's weights_only unpickler after
``import mmmultilabel``: mmengine's own checkpoints (resume, load_from) do,
a checkpoint whose pickle carries a payload does not."""

import fractions
import pathlib
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

import mmmultilabel  # noqa: F401
from mmmultilabel.engine import CheckpointGlobalError, checkpoint_safe_globals


class Payload:
    """Unpickling it creates a file: code run by loading a checkpoint."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _payload_checkpoint(tmp_path):
    marker = tmp_path / 'payload-ran'
    path = tmp_path / 'evil.pth'
    torch.save(
        dict(state_dict=dict(w=torch.zeros(2)), meta=Payload(str(marker))),
        str(path),
    )
    return str(path), marker


def test_payload_refused_by_mmengine_loader_after_import(tmp_path):
    path, marker = _payload_checkpoint(tmp_path)
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_payload_refused_with_the_allow_list(tmp_path):
    path, marker = _payload_checkpoint(tmp_path)
    with pytest.raises(CheckpointGlobalError) as err:
        with checkpoint_safe_globals(path):
            CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not marker.exists()
    message = str(err.value)
    assert path in message and 'pathlib' in message
    assert 'checkpoint_safe_globals' in message and '--safe-globals' in message


def _safe_globals() -> set:
    # torch keeps the allow-list in a set: its list order is arbitrary and
    # may change when the set is rebuilt on leaving the context
    return set(torch.serialization.get_safe_globals())


def test_allow_list_is_scoped_to_the_load():
    before = _safe_globals()
    assert HistoryBuffer not in before
    with checkpoint_safe_globals(extra=['fractions.Fraction']):
        inside = _safe_globals()
    assert HistoryBuffer in inside
    assert (fractions.Fraction, 'fractions.Fraction') in inside
    assert _safe_globals() == before


def test_history_buffer_and_numpy_round_trip(tmp_path):
    import numpy as np

    buf = HistoryBuffer([1.0, 2.0], [1, 1])
    ckpt = dict(
        message_hub=dict(log_scalars={'loss': buf}),
        runtime_info=dict(best=np.float64(0.5), arr=np.arange(3)),
    )
    path = str(tmp_path / 'ok.pth')
    torch.save(ckpt, path)
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(path)  # the stock default refuses it
    with checkpoint_safe_globals(path):
        loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    out = loaded['message_hub']['log_scalars']['loss']
    assert out.mean() == 1.5 and out.max() == 2.0
    assert loaded['runtime_info']['best'] == 0.5
    assert loaded['runtime_info']['arr'].tolist() == [0, 1, 2]


def test_getattr_is_restricted_to_history_buffer_methods(tmp_path):
    # A pickle that calls getattr on an allowed global (numpy.ndarray)
    # other than HistoryBuffer.
    import numpy as np

    class Sneaky:
        def __reduce__(self):
            return (getattr, (np.ndarray, 'tofile'))

    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=Sneaky()), path)
    with pytest.raises(pickle.UnpicklingError, match='refused getattr'):
        with checkpoint_safe_globals(path):
            torch.load(path)


def test_user_allows_a_global_explicitly(tmp_path):
    path = str(tmp_path / 'frac.pth')
    torch.save(dict(meta=dict(ratio=fractions.Fraction(1, 3))), path)
    with pytest.raises(CheckpointGlobalError, match='fractions.Fraction'):
        with checkpoint_safe_globals(path):
            torch.load(path)
    with checkpoint_safe_globals(path, extra=['fractions.Fraction']):
        assert torch.load(path)['meta']['ratio'] == fractions.Fraction(1, 3)


def test_unknown_allowed_name_is_a_clear_error():
    with pytest.raises(ValueError, match='no_such_module.Thing'):
        with checkpoint_safe_globals(extra=['no_such_module.Thing']):
            pass
