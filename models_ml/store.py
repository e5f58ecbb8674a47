"""Fitted models on disk, in skops format (never pickle).

Loading trusts exactly the types our estimators are made of; a file that asks for any
other type (a tampered or foreign file) is refused before anything in it is executed.

A run's directory (`models/<run id>/`) exists complete or not at all: its files are
written into a hidden `.<run id>.partial` sibling, flushed to disk, and the directory is
renamed into place; training records the run only after that (`write_model_directory`).
A training killed before its run is recorded leaves a `.partial` directory (the next
training removes it) or a complete directory no run points at (never read).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import skops.io as sio

from models_ml.estimators import AccountLossModel, AttritionRiskModel
from models_ml.horizons import HorizonRiskModel
from pipelines.errors import RepradarError
from pipelines.file_modes import private_directory
from pipelines.warehouse import disk_full, free_space, fsync_directory, is_disk_full

TRUSTED_TYPES = frozenset(
    {
        "models_ml.estimators.AttritionRiskModel",
        "models_ml.estimators.AccountLossModel",
        "models_ml.horizons.HorizonRiskModel",
        "numpy.dtype",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.compose._column_transformer.make_column_selector",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.model_selection._split.StratifiedKFold",
    }
)
PARTIAL_SUFFIX = ".partial"


class UntrustedModelFile(RepradarError):
    """The model file needs types outside TRUSTED_TYPES."""


class DamagedModelFile(RepradarError):
    """The model file is not a whole skops archive (cut short, overwritten)."""


def model_bytes(model: HorizonRiskModel | AttritionRiskModel | AccountLossModel) -> bytes:
    """The model as the content of a skops file."""
    return sio.dumps(model)


def _write_synced(path: Path, content: bytes) -> None:
    with path.open("xb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def partial_directory(directory: Path) -> Path:
    """The hidden sibling a run directory is written in before it is renamed into place."""
    return directory.with_name(f".{directory.name}{PARTIAL_SUFFIX}")


def write_model_directory(directory: Path, files: dict[str, bytes]) -> None:
    """Create `directory` holding `files` (name: content), complete or not at all.

    DiskFull, with nothing left behind, when they do not fit."""
    needed = sum(len(content) for content in files.values())
    what = f"the model files of {directory.name}"
    private_directory(directory.parent)
    if free_space(directory.parent) < needed:
        raise disk_full(directory.parent, needed, what)
    partial = partial_directory(directory)
    try:
        partial.mkdir()
        for name, content in files.items():
            _write_synced(partial / name, content)
        fsync_directory(partial)
        partial.rename(directory)
        fsync_directory(directory.parent)
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if is_disk_full(error):
            raise disk_full(directory.parent, needed, what) from error
        raise


def remove_partial_directories(models: Path) -> None:
    """Remove the `.partial` directories of trainings that were killed (call it holding
    the writer lock, so none of them is being written)."""
    for stale in models.glob(f".*{PARTIAL_SUFFIX}"):
        shutil.rmtree(stale, ignore_errors=True)


def model_files_problem(paths: list[Path]) -> str | None:
    """What makes a run's files unusable (one missing, empty, or a skops file that is not
    a whole archive), in words; None when they are all there."""
    for path in paths:
        if not path.is_file():
            return f"{path} does not exist"
        if path.stat().st_size == 0 or (path.suffix == ".skops" and not zipfile.is_zipfile(path)):
            return f"{path} is incomplete"
    return None


def load_model(path: Path) -> HorizonRiskModel | AttritionRiskModel | AccountLossModel:
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist; run `repradar train`")
    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DamagedModelFile(
            f"model file {path} is damaged ({error}); run `repradar train`"
        ) from error
    if untrusted:
        raise UntrustedModelFile(
            f"{path} asks for types repradar does not trust: {', '.join(sorted(untrusted))}"
        )
    return sio.load(path, trusted=sorted(TRUSTED_TYPES))
