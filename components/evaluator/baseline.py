"""``LatestBlessedOtherModelStrategy``: the baseline for the evaluator.

Like TFX's ``LatestBlessedModelStrategy`` (the Model with the highest id whose ModelBlessing
has ``blessed`` = 1 and ``current_model_id`` = its id), but never the candidate itself (the
Models on the ``candidate`` channel). So a re-run whose Trainer was cached resolves the same
(empty or older) baseline as the first run, and the evaluator's cache entry still matches.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver

CANDIDATE = "candidate"
MODEL = "model"
BLESSING = "model_blessing"


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Inputs ``candidate``, ``model`` and ``model_blessing``; outputs ``model`` and
    ``model_blessing`` (empty lists when there is no blessed model other than the candidate)."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        excluded = {artifact.id for artifact in input_dict.get(CANDIDATE, [])}
        blessed = {blessing.get_int_custom_property("current_model_id"): blessing
                   for blessing in input_dict.get(BLESSING, [])
                   if blessing.get_int_custom_property("blessed") == 1}
        for model in sorted(input_dict.get(MODEL, []), key=lambda a: a.id, reverse=True):
            if model.id in blessed and model.id not in excluded:
                return {MODEL: [model], BLESSING: [blessed[model.id]], CANDIDATE: []}
        return {MODEL: [], BLESSING: [], CANDIDATE: []}
