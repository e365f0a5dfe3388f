from mmengine.hooks import Hook

from mmsiam.registry import HOOKS

from ..runner_model import model_state_layout, runner_model


def state_dict_mismatch(model_state: dict, checkpoint_state: dict,
                        max_names: int = 10) -> str:
    """What keeps ``checkpoint_state`` from fitting ``model_state`` (missing
    and unexpected keys, shape mismatches), or '' if it fits."""
    missing = [k for k in model_state if k not in checkpoint_state]
    unexpected = [k for k in checkpoint_state if k not in model_state]
    shapes = [
        f'{k}: {tuple(checkpoint_state[k].shape)} in the file, '
        f'{tuple(v.shape)} in the model' for k, v in model_state.items()
        if k in checkpoint_state and hasattr(checkpoint_state[k], 'shape')
        and tuple(checkpoint_state[k].shape) != tuple(v.shape)
    ]
    parts = []
    for name, items in (('missing', missing), ('unexpected', unexpected),
                        ('of another shape', shapes)):
        if items:
            more = (f', ... ({len(items)} in all)'
                    if len(items) > max_names else '')
            parts.append(f'{name}: {", ".join(items[:max_names])}{more}')
    return '; '.join(parts)


@HOOKS.register_module()
class StrictLoadCheckpointHook(Hook):
    """Refuse a ``resume`` / ``load_from`` checkpoint that does not fit the
    model.

    mmengine loads those non-strictly and only logs a warning, so a
    checkpoint of another model or method would continue as a partly random
    model. This hook checks the checkpoint's ``state_dict`` against the
    model (keys and shapes) as soon as it is read, before anything is
    loaded, and raises a ``KeyError`` naming the file and the keys.
    """
    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        source = runner.cfg.get('load_from') or 'the checkpoint'
        state = checkpoint.get('state_dict')
        if not isinstance(state, dict):
            raise KeyError(f'{source}: expected a "state_dict" entry (an '
                           'mmengine training checkpoint); found '
                           f'{sorted(checkpoint)[:10]}')
        model = runner_model(runner)
        problem = state_dict_mismatch(model_state_layout(runner), state)
        if problem:
            raise KeyError(
                f'{source} does not fit {type(model).__name__} of this '
                f'config: {problem}. Resume / load_from need a checkpoint of '
                'the same model; a pretrained encoder goes into a downstream '
                "config's init_cfg=dict(type='Pretrained', ...) instead.")
