"""Where a run starts in its folder: the newest intact checkpoint, found from the files.

A run's ``checkpoints/`` holds, per saved step N, ``ckpt-N.index`` and ``ckpt-N.data-SSSSS-of-
NNNNN`` (``tf.train.CheckpointManager``), and the state file ``checkpoint`` naming the latest
and the kept ones. ``newest_intact`` does not trust the state file:

  1. it lists the checkpoints whose files are present (a ``ckpt-N.index`` or ``.data-*`` file);
  2. from the newest down, it verifies each (``damage``): the index is there and reads, every
     data shard is there, every tensor reads back (TensorFlow checks each one's CRC32C, so a
     flipped bit or a truncation anywhere in the data shows), and the step variable holds N;
     the first that passes is the one to resume from;
  3. the newer ones that failed (and those the state file lists whose files are gone) are named
     in one console line, ``[lsgan] checkpoint ckpt-50 is damaged (...): resuming from
     ckpt-40``, and their files are moved whole into ``checkpoints/damaged-<time>/``: nothing
     is deleted, the manager's ``keep_checkpoints`` sweep never sees them, and the step they
     held is saved afresh, as a new ``ckpt-50``, when training reaches it;
  4. a state file that is missing, unreadable, or names another latest one is rewritten from
     the files: the newest ``keep`` checkpoints present up to the one resumed from, which is
     the latest (one console line when it was missing or unreadable), so the manager keeps and
     deletes them as if the state file had never been lost;
  5. a folder holding checkpoint files (or a state file) of which none is intact is refused
     with ``NoIntactCheckpoint`` (a ``UsageError``: one line naming each and saying that
     ``--fresh`` starts over), touching nothing. No checkpoint files and no state file: a new
     run (None).
With several workers only the chief moves and writes (``chief``); every worker verifies the
same files and so resumes from the same checkpoint.

``saved_config`` reads the run's ``config.json``, which a resume is checked against: a file
that is empty, not UTF-8, not JSON or not a config is one line (``ConfigError``) naming it.

``set_aside_previous_run`` is what a fresh start (``train(..., fresh=True)``, ``--fresh``) does
first: the previous run's outputs are moved whole into ``<out>/previous-<time>/``, a run folder
of its own that ``--out`` there resumes.

Every path may be remote: the files are listed, read and moved through ``tf.io.gfile``.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import tensorflow as tf

from lsgan_tf import config as config_lib
from lsgan_tf import paths
from lsgan_tf.errors import UsageError, storage_failure
from lsgan_tf.tf_error_text import reason

CHECKPOINT_NAME = "ckpt"  # tf.train.CheckpointManager's default checkpoint_name
STATE_FILE = "checkpoint"
STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"  # GanTrainer's tf.train.Checkpoint(step=...)
DAMAGED_PREFIX = "damaged-"
PREVIOUS_PREFIX = "previous-"
_FILE = re.compile(rf"^{CHECKPOINT_NAME}-(\d+)\.(index|data-(\d{{5}})-of-(\d{{5}}))$")
_SHOWN = 4  # checkpoints named in one line, then "and N more"


class NoIntactCheckpoint(UsageError):
    """A run folder holds checkpoints, none of which can be resumed from."""


class IncompatibleCheckpoint(UsageError):
    """An intact checkpoint whose variables do not fit the models being built."""

    def __init__(self, prefix: str, error: BaseException):
        run = os.path.dirname(os.path.dirname(prefix))
        super().__init__(
            f"checkpoint {prefix} does not fit this run's model ({reason(error)}): resume it "
            f"with the run's own config (--config={os.path.join(run, 'config.json')}), or "
            f"{_fresh_advice(run)}")


def _fresh_advice(run: str) -> str:
    return (f"pass --fresh to start over at step 0 (the previous run's files are then moved to "
            f"{os.path.join(run, PREVIOUS_PREFIX)}<time>/)")


def saved_config(path: str) -> config_lib.ExperimentConfig:
    """The config a run saved to ``path`` (its ``config.json``); ``ConfigError`` naming the
    file and what is wrong with it when it is not one."""
    data = paths.read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = f"is not UTF-8 text (byte {error.start})"
    else:
        try:
            if not text.strip():
                problem = "is empty"
            else:
                return config_lib.from_json(text)
        except json.JSONDecodeError as error:
            problem = f"is not JSON ({error})"
        except (ValueError, TypeError, AttributeError) as error:
            problem = f"is not a run's config ({reason(error, 120)})"
    raise config_lib.ConfigError(
        f"{path} {problem}: it is the config this run was started with, which a resume is "
        f"checked against; put it back (or remove it: the resume then checks the checkpoints "
        f"only), or {_fresh_advice(os.path.dirname(path))}")


def prefix_of(directory: str, step: int) -> str:
    return os.path.join(directory, f"{CHECKPOINT_NAME}-{step}")


def checkpoint_files(directory: str) -> Dict[int, List[str]]:
    """Step -> the files of checkpoint ``ckpt-<step>`` present in ``directory``."""
    found: Dict[int, List[str]] = {}
    for path in paths.glob(os.path.join(directory, f"{CHECKPOINT_NAME}-*")):
        match = _FILE.match(os.path.basename(path))
        if match:
            found.setdefault(int(match.group(1)), []).append(path)
    return found


def _missing_shards(files: Sequence[str]) -> Optional[str]:
    """What is missing of the data shards (``.data-SSSSS-of-NNNNN``) among ``files``."""
    shards = [_FILE.match(os.path.basename(path)) for path in files]
    shards = [(int(m.group(3)), int(m.group(4))) for m in shards if m and m.group(3)]
    if not shards:
        return "its data file is missing"
    counts = {count for _, count in shards}
    present = {index for index, _ in shards}
    if len(counts) > 1 or present != set(range(max(counts))):
        return f"data shards missing ({len(present)} present of {max(counts)})"
    return None


def _damage_only(error: BaseException) -> str:
    """``reason(error)``; the error itself again when it is the storage failing (a refused
    read, a full disk), which says nothing about the files' bytes."""
    if storage_failure(error) or isinstance(error, (
            tf.errors.PermissionDeniedError, tf.errors.UnavailableError,
            tf.errors.DeadlineExceededError, tf.errors.UnauthenticatedError,
            tf.errors.ResourceExhaustedError, tf.errors.AbortedError,
            tf.errors.CancelledError)):
        raise error
    return reason(error, 120)


def damage(prefix: str, step: int, files: Optional[Sequence[str]] = None) -> Optional[str]:
    """Why checkpoint ``prefix`` (``.../ckpt-<step>``) cannot be resumed from, as a short
    phrase, or None when it is intact (module docstring, step 2). ``files``: its files, when
    listed already. Reads every tensor once."""
    if files is None:
        files = checkpoint_files(os.path.dirname(prefix)).get(step, [])
    if f"{prefix}.index" not in files:
        return "its index file is missing"
    missing = _missing_shards(files)
    if missing:
        return missing
    try:
        # Not tf.train.load_checkpoint, which takes a prefix ram:// calls a folder for a folder.
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    except (tf.errors.OpError, IndexError, ValueError) as error:
        return f"its index cannot be read: {_damage_only(error)}"
    for key in sorted(reader.get_variable_to_shape_map()):
        try:
            value = reader.get_tensor(key)
        except (tf.errors.OpError, IndexError, ValueError) as error:
            where = re.sub(r"TensorBundle at \S+ ", "", _damage_only(error))
            return f"{key.replace('/.ATTRIBUTES/VARIABLE_VALUE', '')} cannot be read: {where}"
        if key == STEP_KEY and int(value) != step:
            return f"it holds step {int(value)}, not {step}"
    if not reader.has_tensor(STEP_KEY):
        return "it holds no step variable"
    return None


def _read_state(directory: str) -> Tuple[Optional[object], Optional[str]]:
    """(the state file's ``CheckpointState``, None), or (None, what is wrong with it)."""
    if not paths.exists(os.path.join(directory, STATE_FILE)):
        return None, "missing"
    try:
        state = tf.train.get_checkpoint_state(directory)
    except ValueError as error:  # no latest checkpoint named (an empty file)
        return None, f"unreadable ({reason(error, 80)})"
    return (state, None) if state is not None else (None, "unreadable")


def _state_steps(state) -> List[int]:
    """The steps the state file lists."""
    steps = []
    for path in [*state.all_model_checkpoint_paths, state.model_checkpoint_path]:
        match = re.match(rf"^{CHECKPOINT_NAME}-(\d+)$", os.path.basename(path))
        if match and int(match.group(1)) not in steps:
            steps.append(int(match.group(1)))
    return sorted(steps)


def write_state(directory: str, steps: Sequence[int]) -> str:
    """Replaces ``directory``'s state file (written to a temporary name, then renamed) with
    one listing ``steps`` (ascending, the last the latest) by relative path, as the manager
    writes it; their timestamps count up to now."""
    now = time.time()
    lines = [f'model_checkpoint_path: "{CHECKPOINT_NAME}-{steps[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{CHECKPOINT_NAME}-{step}"' for step in steps]
    lines += [f"all_model_checkpoint_timestamps: {now - len(steps) + i + 1:.6f}"
              for i in range(len(steps))]
    lines.append(f"last_preserved_timestamp: {now - len(steps) - 1:.6f}")
    path = os.path.join(directory, STATE_FILE)
    paths.write_text(f"{path}.tmp", "\n".join(lines) + "\n")
    tf.io.gfile.rename(f"{path}.tmp", path, overwrite=True)
    return path


def unused_path(path: str) -> str:
    """``path``, or ``path-2``, ``path-3``... : the first that does not exist."""
    candidate, number = path, 1
    while paths.exists(candidate):
        number += 1
        candidate = f"{path}-{number}"
    return candidate


def stamp() -> str:
    """The time now (UTC) as it ends the names of folders set aside: ``20250131-235959``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def _move_into(folder: str, sources: Sequence[str]) -> str:
    paths.makedirs(folder)
    for source in sources:
        paths.rename(source, os.path.join(folder, os.path.basename(source.rstrip("/"))))
    return folder


def set_aside_damaged(directory: str, files: Sequence[str]) -> str:
    """Moves ``files`` into a new ``<directory>/damaged-<time>/``; returns that folder."""
    return _move_into(unused_path(os.path.join(directory, DAMAGED_PREFIX + stamp())), files)


def ensure_state(directory: str, steps: Sequence[int]) -> bool:
    """Makes ``directory``'s state file list ``steps`` (the last the latest) unless it already
    names that latest (True when it was written); with no ``steps``, an unreadable state file
    (which the manager could not start from) is set aside (``set_aside_damaged``)."""
    state, problem = _read_state(directory)
    if steps and (state is None or os.path.basename(state.model_checkpoint_path)
                  != f"{CHECKPOINT_NAME}-{steps[-1]}"):
        write_state(directory, steps)
        return True
    if not steps and problem not in (None, "missing"):
        set_aside_damaged(directory, [os.path.join(directory, STATE_FILE)])
    return False


def _listed(items: Sequence[Tuple[int, str]]) -> str:
    shown = ", ".join(f"{CHECKPOINT_NAME}-{step} ({why})" for step, why in items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def newest_intact(directory: str, keep: int, chief: bool = True,
                  stream=sys.stdout) -> Optional[str]:
    """The prefix of the newest intact checkpoint in ``directory`` (``<out>/checkpoints``),
    after moving the newer damaged ones aside and repairing the state file (chief only); None
    for a folder without checkpoints; ``NoIntactCheckpoint`` when none is intact (module
    docstring). ``keep``: ``train.keep_checkpoints``, how many the state file lists."""
    on_disk = checkpoint_files(directory)
    state, state_problem = _read_state(directory)
    listed = _state_steps(state) if state is not None else []
    damaged: List[Tuple[int, str]] = []
    found = None
    for step in sorted(set(on_disk) | set(listed), reverse=True):
        why = (damage(prefix_of(directory, step), step, on_disk[step]) if step in on_disk
               else "its files are missing")
        if why is None:
            found = step
            break
        damaged.append((step, why))
    if found is None:
        if not damaged and state_problem in (None, "missing"):
            return None
        what = (f"every checkpoint in {directory} is damaged: {_listed(damaged)}" if damaged
                else f"{os.path.join(directory, STATE_FILE)} is {state_problem} and no "
                     f"checkpoint files are in {directory}")
        raise NoIntactCheckpoint(f"{what}; nothing was changed: "
                                 f"{_fresh_advice(os.path.dirname(directory.rstrip('/')))}")
    latest = prefix_of(directory, found)
    moved = None
    present = [path for step, _ in damaged for path in on_disk.get(step, [])]
    if chief and present:
        moved = set_aside_damaged(directory, present)
    if damaged:
        step, why = damaged[0]
        which = (f"checkpoint {CHECKPOINT_NAME}-{step} is damaged ({why})" if len(damaged) == 1
                 else f"checkpoints {_listed(damaged)} are damaged")
        where = f" (the damaged files were moved to {moved})" if moved else ""
        print(f"[lsgan] {which}: resuming from {os.path.basename(latest)}{where}",
              file=stream, flush=True)
    kept = sorted(step for step in on_disk if step <= found)[-keep:]
    if chief and ensure_state(directory, kept) and state_problem:
        print(f"[lsgan] {os.path.join(directory, STATE_FILE)} was {state_problem}: rebuilt from "
              f"the checkpoint files present "
              f"({', '.join(f'{CHECKPOINT_NAME}-{step}' for step in kept)})",
              file=stream, flush=True)
    return latest


def set_aside_previous_run(out_dir: str, names: Sequence[str],
                           stream=sys.stdout) -> Optional[str]:
    """Moves each of ``names`` (a run's outputs: files and folders) present in ``out_dir``
    into a new ``<out_dir>/previous-<time>/`` and returns it; None when none is present."""
    present = [name for name in names if paths.exists(os.path.join(out_dir, name))]
    if not present:
        return None
    folder = _move_into(unused_path(os.path.join(out_dir, PREVIOUS_PREFIX + stamp())),
                        [os.path.join(out_dir, name) for name in present])
    print(f"[lsgan] --fresh: starting at step 0; the previous run's files "
          f"({', '.join(present)}) were moved to {folder}", file=stream, flush=True)
    return folder
