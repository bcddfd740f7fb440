"""Which scores may pick a run's best checkpoint (``eval.select``), which way is better, and
the record of the picks (``best.json``). Imports no TensorFlow: ``validation`` reads it.

Selectable: ``lsgan_tf.scores.SELECTABLE`` (the scores training computes whose direction is
known; ``direction`` says which way is better).

``BestRecord`` as JSON (``best.json``):
  {"select": "fd", "direction": "lower",
   "best": {"step": 4, "score": 1.5, "checkpoint": ".../checkpoints/best/ckpt-4"} | null,
   "last": {"step": 6, "score": 2.5} | null,
   "history": [[2, 3.0], [4, 1.5], [6, 2.5]]}
A score that is not finite is stored as null and is never the best.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, List, Optional, Tuple

from lsgan_tf.scores import direction


def _finite(score: Optional[float]) -> Optional[float]:
    return float(score) if score is not None and math.isfinite(score) else None


@dataclasses.dataclass
class BestRecord:
    """The scores of one run at its evaluation steps and the best of them so far."""
    select: str
    best_step: Optional[int] = None
    best_score: Optional[float] = None
    best_checkpoint: Optional[str] = None
    history: List[Tuple[int, Optional[float]]] = dataclasses.field(default_factory=list)

    @property
    def direction(self) -> str:
        return direction(self.select)

    def improves(self, score: Optional[float]) -> bool:
        """Whether ``score`` is finite and strictly better than the best so far."""
        score = _finite(score)
        if score is None:
            return False
        if self.best_score is None:
            return True
        return score < self.best_score if self.direction == "lower" else score > self.best_score

    def add(self, step: int, score: Optional[float], checkpoint: Optional[str] = None) -> None:
        """Records ``score`` at ``step``; with ``checkpoint`` (saved because it ``improves``)
        it becomes the best."""
        self.history.append((int(step), _finite(score)))
        if checkpoint is not None:
            self.best_step, self.best_score, self.best_checkpoint = (
                int(step), _finite(score), checkpoint)

    def resumed_at(self, step: int) -> "BestRecord":
        """The record as a run resuming from ``step`` continues it: later entries of the
        history (scored after the checkpoint it resumes from) are dropped, as they will be
        scored again; the best stays (its checkpoint holds the weights training reaches
        again at its step)."""
        return dataclasses.replace(self, history=[h for h in self.history if h[0] <= step])

    def to_dict(self) -> Dict[str, Any]:
        best = None if self.best_step is None else {
            "step": self.best_step, "score": self.best_score, "checkpoint": self.best_checkpoint}
        last = None if not self.history else {"step": self.history[-1][0],
                                              "score": self.history[-1][1]}
        return {"select": self.select, "direction": self.direction, "best": best,
                "last": last, "history": [list(h) for h in self.history]}

    @staticmethod
    def from_dict(values: Dict[str, Any]) -> "BestRecord":
        best = values.get("best") or {}
        return BestRecord(values["select"], best.get("step"), best.get("score"),
                          best.get("checkpoint"),
                          [(int(step), score) for step, score in values.get("history", [])])
