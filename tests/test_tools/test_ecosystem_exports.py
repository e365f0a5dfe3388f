"""mmsiam_to_timm.py and mmsiam_to_torchvision.py: every encoder loads
strictly into its timm / torchvision model and gives the same features;
encoders of the sizes no model name has (the demos') too, with the call the
tool prints; unreadable inputs are errors that name them."""
import os.path as osp
import textwrap

import pytest
import timm
import torch
import torchvision
from mmengine import DefaultScope
from mmengine.config import Config

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, DEMO_PRETRAIN_CONFIG,
                     MULAN_DEMO_CONFIG, REPO, load_tool)
from mmsiam.registry import MODELS
from mmsiam.utils import register_all_modules

TO_TIMM = load_tool('model_converters/mmsiam_to_timm.py')
TO_TORCHVISION = load_tool('model_converters/mmsiam_to_torchvision.py')
EXTRACT = load_tool('model_converters/extract_backbone.py')
CHECKPOINT_IO = load_tool('model_converters/checkpoint_io.py')
# Features of the export and of the mmsiam encoder, fp32, eval mode.
RTOL, ATOL = 1e-5, 1e-5


def paper_config(method, name):
    return osp.join(REPO, 'configs', method, name)


SIAMESEIM = paper_config(
    'siameseim', 'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py')
CONMIM = paper_config('conmim',
                      'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py')
MULAN_VIT = paper_config(
    'mulan', 'mulan-byol_vit-small-p16_4xb256-amp-coslr-200e_in1k.py')
MULAN_R50 = paper_config('mulan',
                         'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py')


def perturbed_backbone(config, tmp_path, with_config=False):
    """The config's encoder (torch's default init, every tensor then moved
    by noise, so that swapped keys change the features), in eval mode, and
    its ``backbone.*`` file; ``with_config``: a pretraining checkpoint
    instead, as the runner writes it (both branches equal, the config text
    in ``meta['cfg']``)."""
    register_all_modules()
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        backbone = MODELS.build(cfg.model.backbone)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in backbone.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator)
                tensor.add_(0.02 * noise.abs() if 'running_var' in name
                            else 0.02 * noise)
    tmp_path.mkdir(parents=True, exist_ok=True)
    if with_config:
        path = save_encoder(backbone, tmp_path / 'epoch_1.pth',
                            ('backbone.', 'target.module.0.'),
                            meta=dict(cfg=cfg.pretty_text))
    else:
        path = save_encoder(backbone, tmp_path / 'backbone.pth')
    backbone.eval()  # mmpretrain's train() overrides return None
    return backbone, path


def save_encoder(backbone, path, prefixes=('backbone.', ), **checkpoint):
    """Write ``backbone``'s weights under each of ``prefixes``."""
    torch.save(dict(checkpoint, state_dict={
        prefix + k: v for prefix in prefixes
        for k, v in backbone.state_dict().items()}), path)
    return path


def printed_timm_model(out):
    """The timm model built and loaded by the two lines that
    mmsiam_to_timm.py printed, in eval mode."""
    call = out[out.index('  model = timm.create_model('):]
    scope = dict(timm=timm)
    exec(textwrap.dedent(call), scope)
    return scope['model'].eval()


@pytest.mark.parametrize('config,model,kwargs', [
    (SIAMESEIM, 'vit_base_patch16_224', dict(final_norm=False)),
    (MULAN_VIT, 'vit_small_patch16_224', {}),
    (CONMIM, 'beit_base_patch16_224', dict(global_pool='token')),
], ids=['siameseim-vit-b', 'mulan-vit-s', 'conmim-beit-b'])
def test_vit_encoders_load_strictly_into_timm_with_equal_features(
        config, model, kwargs, tmp_path, capsys):
    backbone, path = perturbed_backbone(config, tmp_path)
    out = tmp_path / 'timm.pth'
    TO_TIMM.main([str(path), str(out)])
    assert f'timm.create_model({model!r}, num_classes=0' in (
        capsys.readouterr().out)
    exported = torch.load(out, weights_only=True)
    assert exported['meta']['timm_model'] == model
    assert exported['meta']['timm_kwargs'] == kwargs
    net = timm.create_model(model, pretrained=False, num_classes=0, **kwargs)
    timm.models.load_checkpoint(net, str(out), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        ours = backbone(x)[0]
        tokens = net.eval().forward_features(x)
    # DINOViT (MULAN) gives the cls token after its final norm.
    theirs = tokens[:, 0] if ours.dim() == 2 else tokens
    torch.testing.assert_close(theirs, ours, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize('config,family,kwargs', [
    (DEMO_CONFIG, 'vit', dict(embed_dim=64, depth=4, num_heads=2,
                              mlp_ratio=4.0, img_size=64, patch_size=8,
                              final_norm=False)),
    (CONMIM_DEMO_CONFIG, 'beit', dict(embed_dim=96, depth=4, num_heads=3,
                                      mlp_ratio=4.0, img_size=64,
                                      patch_size=8, global_pool='token')),
], ids=['siameseim-demo', 'conmim-demo'])
def test_a_demo_vit_exports_with_its_sizes_and_the_printed_call_loads_it(
        config, family, kwargs, tmp_path, capsys):
    """A 4-block patch-8 ViT that no timm name has: sizes from the weights,
    the heads from the config the checkpoint (or extract_backbone.py's
    ``backbone.*`` file) records, no --model or --timm-kwargs."""
    backbone, checkpoint = perturbed_backbone(config, tmp_path,
                                              with_config=True)
    backbone_file = tmp_path / 'backbone.pth'
    EXTRACT.main([str(checkpoint), str(backbone_file)])
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = backbone(x)[0]
    for source in (checkpoint, backbone_file):
        out = tmp_path / f'timm_from_{source.stem}.pth'
        capsys.readouterr()
        TO_TIMM.main([str(source), str(out)])
        net = printed_timm_model(capsys.readouterr().out)
        meta = torch.load(out, weights_only=True)['meta']
        assert meta['timm_model'] == f'{family}_base_patch16_224'
        assert meta['timm_kwargs'] == kwargs
        with torch.no_grad():
            torch.testing.assert_close(net.forward_features(x), ours,
                                       rtol=RTOL, atol=ATOL)


def test_without_a_recorded_config_the_heads_are_asked_for(tmp_path):
    """The SiameseIM demo encoder (4 blocks, 2 heads, 8-pixel patches) in
    a ``backbone.*`` file without meta; --model and --timm-kwargs override
    what the tool finds."""
    backbone, path = perturbed_backbone(DEMO_CONFIG, tmp_path)
    with pytest.raises(SystemExit, match='no timm model name has width 64 '
                       r'and depth 4.*pass --timm-kwargs num_heads=N'):
        TO_TIMM.main([str(path), str(tmp_path / 'refused.pth')])
    assert not (tmp_path / 'refused.pth').exists()
    out = tmp_path / 'timm.pth'
    TO_TIMM.main([str(path), str(out), '--model', 'vit_small_patch16_224',
                  '--timm-kwargs', 'num_heads=2'])
    meta = torch.load(out, weights_only=True)['meta']
    assert meta['timm_model'] == 'vit_small_patch16_224'
    assert meta['timm_kwargs']['num_heads'] == 2
    net = timm.create_model(meta['timm_model'], num_classes=0,
                            **meta['timm_kwargs'])
    timm.models.load_checkpoint(net, str(out), strict=True)
    size = backbone.patch_resolution[0] * backbone.patch_size
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        torch.testing.assert_close(net.eval().forward_features(x),
                                   backbone(x)[0], rtol=RTOL, atol=ATOL)


def test_the_make_demo_resnet18_w16_loads_strictly_into_timm(
        tmp_path, capsys):
    """`make demo`'s width-16 ResNet-18, its 16-channel stem widened to
    timm's 64, into the call the tool prints."""
    backbone, path = perturbed_backbone(DEMO_PRETRAIN_CONFIG, tmp_path,
                                        with_config=True)
    out = tmp_path / 'timm.pth'
    TO_TIMM.main([str(path), str(out)])
    printed = capsys.readouterr().out
    assert "timm's ResNet stem has 64 channels: the 16 of this" in printed
    meta = torch.load(out, weights_only=True)['meta']
    assert (meta['timm_model'], meta['timm_kwargs']) == (
        'resnet18', dict(channels=(16, 32, 64, 128)))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(printed_timm_model(printed)(x),
                                   backbone(x)[-1].mean((2, 3)),
                                   rtol=RTOL, atol=ATOL)


def test_resnet50_loads_strictly_into_torchvision_and_timm_by_name(
        tmp_path, capsys):
    """The paper's ResNet-50: torchvision's resnet50, and timm's under its
    own name with no kwargs."""
    backbone, path = perturbed_backbone(MULAN_R50, tmp_path)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = backbone(x)[-1].mean((2, 3))
    out = tmp_path / 'torchvision.pth'
    TO_TORCHVISION.main([str(path), str(out)])
    exported = torch.load(out, weights_only=True)
    assert exported['meta']['torchvision_model'] == 'resnet50'
    net = torchvision.models.resnet50()
    net.fc = torch.nn.Identity()
    net.load_state_dict(exported['state_dict'], strict=True)
    out = tmp_path / 'timm.pth'
    TO_TIMM.main([str(path), str(out)])
    printed = capsys.readouterr().out
    assert "timm.create_model('resnet50', num_classes=0)\n" in printed
    with torch.no_grad():
        for theirs in (net.eval(), printed_timm_model(printed)):
            torch.testing.assert_close(theirs(x), ours, rtol=RTOL,
                                       atol=ATOL)


def test_an_unmatched_key_is_an_error_that_names_it(tmp_path):
    _, path = perturbed_backbone(DEMO_CONFIG, tmp_path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint['state_dict']['backbone.extra_head.weight'] = torch.ones(2)
    torch.save(checkpoint, path)
    with pytest.raises(SystemExit, match=r"have no timm name: "
                       r"\['extra_head.weight'\]"):
        TO_TIMM.main([str(path), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()


def test_what_a_library_cannot_hold_is_an_error_that_says_why(tmp_path):
    _, resnet = perturbed_backbone(MULAN_DEMO_CONFIG, tmp_path / 'r')
    # The demo's width-16 ResNet-18 is no torchvision model: timm takes it.
    with pytest.raises(SystemExit, match=r'16 stem channels, planes \(16, '
                       r'32, 64, 128\); torchvision has only .*export it to '
                       'timm.*mmsiam_to_timm.py'):
        TO_TORCHVISION.main([str(resnet), str(tmp_path / 'out.pth')])
    _, vit = perturbed_backbone(DEMO_CONFIG, tmp_path / 'v')
    with pytest.raises(SystemExit, match='not a ResNet encoder'):
        TO_TORCHVISION.main([str(vit), str(tmp_path / 'out.pth')])
    register_all_modules()
    with DefaultScope.overwrite_default_scope('mmsiam'):
        deep_stem = MODELS.build(dict(type='ResNetV1c', depth=18))
    path = save_encoder(deep_stem, tmp_path / 'deep_stem.pth')
    for tool in (TO_TIMM, TO_TORCHVISION):
        with pytest.raises(SystemExit, match=r'deep_stem\.pth: the encoder '
                           'has a deep stem'):
            tool.main([str(path), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()


EXPORT_ANOTHER = ('Export another checkpoint of its work dir instead, e.g. '
                  'an earlier {dir}/epoch_N.pth.')


@pytest.mark.parametrize('load,advice', [
    (TO_TIMM.main, EXPORT_ANOTHER),
    (TO_TORCHVISION.main, EXPORT_ANOTHER),
    (EXTRACT.main, EXPORT_ANOTHER),
    (lambda args: CHECKPOINT_IO.load_official_checkpoint(args[0]),
     'Download or copy the file again.'),
], ids=['to-timm', 'to-torchvision', 'extract-backbone', 'official'])
def test_a_truncated_checkpoint_is_named_with_what_to_convert_instead(
        load, advice, tmp_path):
    path = tmp_path / 'epoch_3.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.ones(4096)}},
               path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(SystemExit) as error:
        load([str(path), str(tmp_path / 'out.pth')])
    message = str(error.value)
    assert message.startswith(f'error: {path}: the checkpoint is unreadable:'
                              ' the file is truncated or corrupt')
    assert message.endswith(advice.format(dir=tmp_path))
    assert '--resume' not in message
    assert not (tmp_path / 'out.pth').exists()
