from collections import Counter
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmsiam.registry import MODELS

TASKS = ('global', 'local', 'cutout')


def multi_task_pairs(num_views: Mapping[str, int]
                     ) -> List[Tuple[str, int, int]]:
    """MULAN's (task, online view, global target) pairs.

    Every online view is paired with every global target except itself:
    ``global_i -> global_j`` (j != i), each local and each cutout view ->
    every global. Views are indexed within their task.

    Args:
        num_views (Mapping[str, int]): Views per task, e.g.
            ``dict(global=2, local=2, cutout=1)``.

    Returns:
        list[tuple[str, int, int]]: e.g. 8 pairs for 2 + 2 + 1 views.
    """
    num_globals = num_views.get('global', 0)
    if num_globals < 2:
        raise ValueError(f'MULAN needs at least 2 global views, got '
                         f'{num_globals}')
    return [(task, view, target) for task in TASKS
            for view in range(num_views.get(task, 0))
            for target in range(num_globals)
            if not (task == 'global' and view == target)]


@MODELS.register_module()
class MultiTaskPredictorHead(BaseModule):
    """One predictor per view type and the per-task alignment losses
    (MULAN).

    Every online view ``v`` of type ``t`` is predicted by ``predictor_t``
    and aligned with the target of every global view but itself
    (:func:`multi_task_pairs`). The task loss is ``L_t = w_t * mean over
    the pairs of t of loss(predictor_t(online_v), target_j)``; the total
    (mmengine sums every ``loss_*`` entry) is ``sum_t L_t``.

    Args:
        predictor (dict): Config of one predictor (e.g. ``NonLinearNeck``
            256 -> 4096 -> 256); ``((B, C),) -> ((B, C'),)``.
        loss (dict): Pair loss ``loss(pred (B, C'), target (B, C'))``, e.g.
            ``CosineSimilarityLoss(shift_factor=2, scale_factor=2)`` (BYOL).
        tasks (Sequence[str]): Tasks with a predictor. Defaults to
            ``('global', 'local', 'cutout')``.
        task_weights (Sequence[float], optional): ``w_t`` in the order of
            ``tasks``; all 1 by default.
        shared_predictor (bool): One predictor for every task (the unstable
            baseline). Defaults to False.
    """

    def __init__(self,
                 predictor: dict,
                 loss: dict,
                 tasks: Sequence[str] = TASKS,
                 task_weights: Optional[Sequence[float]] = None,
                 shared_predictor: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        unknown = set(tasks) - set(TASKS)
        if unknown:
            raise ValueError(f'unknown MULAN tasks {sorted(unknown)}; '
                             f'choose from {TASKS}')
        self.tasks = tuple(tasks)
        self.shared_predictor = shared_predictor
        names = ('shared', ) if shared_predictor else self.tasks
        self.predictors = nn.ModuleDict(
            {name: MODELS.build(predictor) for name in names})
        weights = [1.] * len(self.tasks) if task_weights is None \
            else list(task_weights)
        if len(weights) != len(self.tasks):
            raise ValueError(f'task_weights {weights}: one weight per task '
                             f'of {self.tasks} expected')
        self.task_weights = dict(zip(self.tasks, weights))
        self.loss_module = MODELS.build(loss)

    def predictor(self, task: str) -> nn.Module:
        return self.predictors['shared' if self.shared_predictor else task]

    def loss(self, projections: Sequence[Tensor], targets: Sequence[Tensor],
             view_types: Sequence[str]) -> Dict[str, Tensor]:
        """Per-task losses of the online views against the global targets.

        Args:
            projections (Sequence[Tensor]): ``(B, C)`` online projection of
                every view, in the order of ``view_types``; each goes
                through its type's predictor in a forward of its own.
            targets (Sequence[Tensor]): ``(B, C')`` target projections of
                the global views, in their order in ``view_types``.
            view_types (Sequence[str]): The type of every view, e.g.
                ``['global', 'global', 'local', 'local', 'cutout']``.

        Returns:
            dict[str, Tensor]: ``loss_<task>`` for every task with views.
        """
        unknown = sorted(set(view_types) - set(self.tasks))
        if unknown:
            raise ValueError(f'MULAN: views of type {unknown} but the head '
                             f'has predictors for {list(self.tasks)} only')
        if len(projections) != len(view_types):
            raise ValueError(f'{len(projections)} projections for '
                             f'{len(view_types)} view types')
        num_views = Counter(view_types)
        pairs = multi_task_pairs(num_views)
        if len(targets) != num_views['global']:
            raise ValueError(f'{len(targets)} targets for '
                             f'{num_views["global"]} global views')
        predictions: Dict[str, List[Tensor]] = {}
        for task, projection in zip(view_types, projections):
            predictions.setdefault(task, []).append(
                self.predictor(task)([projection])[0])
        terms: Dict[str, List[Tensor]] = {}
        for task, view, target in pairs:
            terms.setdefault(task, []).append(
                self.loss_module(predictions[task][view], targets[target]))
        return {
            f'loss_{task}': self.task_weights[task] * sum(values) / len(values)
            for task, values in terms.items()
        }
