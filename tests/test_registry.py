import pytest
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS

from mmsiam import registry
from mmsiam.datasets import MNIST5k
from mmsiam.utils import register_all_modules


def test_nodes_are_mmsiam_children_of_mmpretrain():
    from mmengine import registry as mmengine_registry
    from mmpretrain import registry as mmpretrain_registry
    for name in registry.__all__:
        node = getattr(registry, name)
        assert node.scope == 'mmsiam', name
        # mmpretrain has no strategies or functions node: mmsiam's are
        # mmengine's children.
        parents = (mmengine_registry if name in ('STRATEGIES', 'FUNCTIONS')
                   else mmpretrain_registry)
        assert node.parent is getattr(parents, name), name


def test_scoped_strategy_builds_from_any_scope():
    from mmengine.registry import STRATEGIES
    from mmsiam.engine import MomentumTargetFSDPStrategy
    assert STRATEGIES.get('mmsiam.MomentumTargetFSDPStrategy') is (
        MomentumTargetFSDPStrategy)


def test_default_scope_mmsiam_builds_mmpretrain_and_mmengine_types():
    register_all_modules()
    with DefaultScope.overwrite_default_scope('mmsiam'):
        backbone = registry.MODELS.build(dict(type='ResNet', depth=18))
        assert type(backbone).__module__.startswith('mmpretrain')
        dataset = registry.DATASETS.build(dict(type='MNIST5k', split='val'))
        assert isinstance(dataset, MNIST5k)
        sampler = registry.DATA_SAMPLERS.build(
            dict(type='DefaultSampler', shuffle=False, dataset=dataset))
        assert type(sampler).__module__.startswith('mmengine')


@pytest.fixture(scope='module')
def every_package_registered():
    """Every module of mmpretrain, mmdet, mmseg and mmsiam registered."""
    from mmdet.utils import register_all_modules as register_mmdet
    from mmpretrain.utils import register_all_modules as register_mmpretrain
    from mmseg.utils import register_all_modules as register_mmseg
    for register in (register_mmpretrain, register_mmdet, register_mmseg,
                     register_all_modules):
        register(init_default_scope=False)


def _upstream_nodes(name):
    """The registry nodes that mmsiam's node ``name`` could shadow: its
    ancestors (mmpretrain, mmengine) and mmdet's / mmseg's node of the same
    kind."""
    import mmdet.registry
    import mmseg.registry
    node = getattr(registry, name).parent
    while node is not None:
        yield node
        node = node.parent
    for package in (mmdet.registry, mmseg.registry):
        if hasattr(package, name):
            yield getattr(package, name)


@pytest.mark.parametrize('name', registry.__all__)
def test_no_registered_name_shadows_an_upstream_one(
        name, every_package_registered):
    """A type name means one class whatever the scope: none of mmsiam's
    registered names is also registered upstream (mmsiam's AMP wrapper was
    once ``AmpOptimWrapper`` and its feature-map LayerNorm ``LN2d``)."""
    ours = set(getattr(registry, name).module_dict)
    shadowed = {
        f'{node.scope}.{key}'
        for node in _upstream_nodes(name) for key in ours & set(
            node.module_dict)
    }
    assert not shadowed, f'mmsiam {name} shadows {sorted(shadowed)}'


def test_unknown_type_names_the_key_and_registry():
    with DefaultScope.overwrite_default_scope('mmsiam'):
        with pytest.raises(KeyError, match='ResNett.*mmsiam'):
            registry.MODELS.build(dict(type='ResNett', depth=18))


def _mmdet_config(tmp_path, lines):
    path = tmp_path / 'mask_rcnn_with_mmsiam.py'
    path.write_text('\n'.join([
        "_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'",
        "custom_imports = dict(imports=['mmsiam'], "
        'allow_failed_imports=False)',
    ] + lines))
    return Config.fromfile(str(path))


def test_mmdet_config_builds_mmsiam_type_through_custom_imports(tmp_path):
    import mmdet.registry
    cfg = _mmdet_config(
        tmp_path, ["extra_dataset = dict(type='mmsiam.MNIST5k', "
                   "split='val')"])
    assert cfg.default_scope == 'mmdet'
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        # The inherited mmdet model still builds in the mmdet scope...
        detector = mmdet.registry.MODELS.build(cfg.model)
        assert type(detector).__name__ == 'MaskRCNN'
        # ...and the mmdet registry reaches mmsiam's type by its scope.
        dataset = mmdet.registry.DATASETS.build(cfg.extra_dataset)
    assert isinstance(dataset, MNIST5k) and len(dataset) == 1000


def test_mmseg_scope_reaches_mmsiam_types():
    import mmseg.registry
    with DefaultScope.overwrite_default_scope('mmseg'):
        cls = mmseg.registry.DATASETS.get('mmsiam.MNIST5k')
    assert cls is MNIST5k
    # The node is found from the root as well (scoped keys start there).
    assert ROOT_MODELS._search_child('mmsiam') is registry.MODELS


def test_fsdp_policy_lookup_under_the_mmsiam_scope_warns_nothing(recwarn):
    """mmengine's FSDP strategy looks up its wrap policies in the functions
    registry of the default scope; a warning said mmsiam had none (issue
    #33 item 13)."""
    from mmengine.registry import FUNCTIONS, DefaultScope
    with DefaultScope.overwrite_default_scope('mmsiam'):
        with FUNCTIONS.switch_scope_and_registry(None) as functions:
            assert functions is registry.FUNCTIONS
    assert not [w for w in recwarn if 'Failed to search' in str(w.message)]
