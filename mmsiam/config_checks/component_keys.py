"""Unknown keys of mmsiam components, named before anything is built.

A misspelt key of a component dict (``model.backbone.drop_path_rat``) is
otherwise a ``TypeError`` raised deep inside a constructor, naming neither
the config path nor what the component takes. :func:`check_component_keys`
walks the config, finds every dict whose ``type`` is an mmsiam class and
checks its keys against the keyword arguments that class accepts.
"""
import difflib
import inspect
import re
from typing import Iterator, Optional, Set, Tuple

from mmengine.config import Config

from .errors import ConfigKeyError

SCOPE = 'mmsiam'
# Keys that a builder consumes before it calls the component's class, by
# the name of the config key holding the component (or list of them).
BUILDER_KEYS = {
    'optim_wrapper': {'constructor', 'paramwise_cfg'},  # mmengine
    # mmengine's scheduler builder (epoch_length comes from the runner)
    'param_scheduler': {'convert_to_iter_based'},
    'norm_cfg': {'requires_grad'},  # mmcv's build_norm_layer
}


def _registries() -> list:
    from mmsiam import registry
    nodes = [getattr(registry, name) for name in registry.__all__]
    for node in nodes:
        node.import_from_location()
    return nodes


def mmsiam_classes(type_name: str, default_scope: Optional[str]) -> list:
    """The mmsiam classes a config ``type`` may name (one per registry
    holding it); empty for types of other packages."""
    scope, _, name = type_name.rpartition('.')
    if (scope or default_scope) != SCOPE:
        return []
    return [
        node._module_dict[name] for node in _registries()
        if name in node._module_dict
    ]


def accepted_keys(cls: type) -> Set[str]:
    """Keyword arguments ``cls(...)`` accepts.

    ``**kwargs`` of an ``__init__`` are followed up the MRO (the mmsiam
    convention is to pass them on to ``super().__init__``).
    """
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        if klass is object:
            break
        params = inspect.signature(init).parameters.values()
        names.update(p.name for p in params if p.kind in (
            p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    names.discard('self')
    return names


def _component_dicts(node, where: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(key path, dict)`` for every dict with a string ``type``."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield where, node
        for key, value in node.items():
            yield from _component_dicts(value, f'{where}.{key}'.lstrip('.'))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _component_dicts(value, f'{where}[{i}]')


def _misplaced_path(component: dict, key: str, where: str) -> Optional[str]:
    """``where.<child>.key`` if a component dict nested in ``component``
    (a wrapper's ``dataset``) accepts ``key``."""
    for child_key, child in component.items():
        if not isinstance(child, dict) or not isinstance(
                child.get('type'), str):
            continue
        for node in _registries():
            cls = node.get(child['type'])
            if cls is not None and key in accepted_keys(cls):
                return f'{where}.{child_key}.{key}'
    return None


def unknown_key_message(component: dict, key: str, where: str,
                        accepted: Set[str]) -> str:
    """Why ``key`` of the component at config path ``where`` is wrong: it
    belongs to a nested component, or it is misspelt (closest match and
    every accepted key)."""
    prefix = f'{where}: {component["type"]} has no argument "{key}"'
    inner = _misplaced_path(component, key, where)
    if inner:
        return f'{prefix}; it belongs to {inner}'
    wrapped = component[key]
    if key == 'dataset' and isinstance(wrapped, dict) and 'type' in wrapped:
        # The type of a dataset wrapper was replaced, not the wrapped one's.
        return (f'{prefix}: {where} wraps the dataset {where}.dataset '
                f'({wrapped["type"]}). To use {component["type"]}, set '
                f'{where}.dataset.type={component["type"]} and its arguments '
                f'under {where}.dataset, and keep {where}.type the '
                'wrapper\'s')
    hint = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
    guess = f'; did you mean "{hint[0]}"?' if hint else '.'
    return (f'{prefix}{guess} It takes: '
            f'{", ".join(sorted(accepted)) or "no arguments"}')


def check_component_keys(cfg: Config) -> None:
    """Raise :class:`ConfigKeyError` for the first key an mmsiam component
    does not accept (see :func:`unknown_key_message`)."""
    default_scope = cfg.get('default_scope')
    for where, component in _component_dicts(cfg.to_dict(), ''):
        classes = mmsiam_classes(component['type'], default_scope)
        if not classes:
            continue
        holder = re.sub(r'\[\d+\]$', '', where.rsplit('.')[-1])
        accepted = set().union(*(accepted_keys(c) for c in classes),
                               BUILDER_KEYS.get(holder, ()))
        for key in component:
            if key != 'type' and not key.startswith('_') and (
                    key not in accepted):
                raise ConfigKeyError(
                    unknown_key_message(component, key, where, accepted) +
                    f' (file: {cfg.filename})')
