"""mmsiam_to_timm.py and mmsiam_to_torchvision.py: every encoder loads
strictly into its timm / torchvision model and gives the same features."""
import os.path as osp

import pytest
import timm
import torch
import torchvision
from mmengine import DefaultScope
from mmengine.config import Config

from helpers import DEMO_CONFIG, MULAN_DEMO_CONFIG, REPO, load_tool
from mmsiam.registry import MODELS
from mmsiam.utils import register_all_modules

TO_TIMM = load_tool('model_converters/mmsiam_to_timm.py')
TO_TORCHVISION = load_tool('model_converters/mmsiam_to_torchvision.py')
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
MULAN_R50 = paper_config('mulan', 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py')


def perturbed_backbone(config, tmp_path):
    """The config's encoder (torch's default init, every tensor then moved
    by noise, so that swapped keys change the features), in eval mode, and
    its ``backbone.*`` file."""
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
    path = tmp_path / "backbone.pth"
    torch.save({'state_dict': {'backbone.' + k: v for k, v in
                               backbone.state_dict().items()}}, path)
    backbone.eval()  # mmpretrain's train() overrides return None
    return backbone, path


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


def test_an_encoder_of_another_size_takes_the_model_and_its_sizes(
        tmp_path):
    """The SiameseIM demo encoder (4 blocks, 2 heads, 8-pixel patches)."""
    backbone, path = perturbed_backbone(DEMO_CONFIG, tmp_path)
    with pytest.raises(SystemExit, match='no timm model has width'):
        TO_TIMM.main([str(path), str(tmp_path / 'refused.pth')])
    assert not (tmp_path / 'refused.pth').exists()
    out = tmp_path / 'timm.pth'
    TO_TIMM.main([str(path), str(out), '--model', 'vit_tiny_patch16_224',
                  '--timm-kwargs', f'embed_dim={backbone.embed_dims}',
                  'depth=4', 'num_heads=2'])
    meta = torch.load(out, weights_only=True)['meta']
    net = timm.create_model(meta['timm_model'], num_classes=0,
                            **meta['timm_kwargs'])
    timm.models.load_checkpoint(net, str(out), strict=True)
    size = backbone.patch_resolution[0] * backbone.patch_size
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        torch.testing.assert_close(net.eval().forward_features(x),
                                   backbone(x)[0], rtol=RTOL, atol=ATOL)


def test_resnet50_loads_strictly_into_torchvision_with_equal_features(
        tmp_path):
    backbone, path = perturbed_backbone(MULAN_R50, tmp_path)
    out = tmp_path / 'torchvision.pth'
    TO_TORCHVISION.main([str(path), str(out)])
    exported = torch.load(out, weights_only=True)
    assert exported['meta']['torchvision_model'] == 'resnet50'
    net = torchvision.models.resnet50()
    net.fc = torch.nn.Identity()
    net.load_state_dict(exported['state_dict'], strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(x),
                                   backbone(x)[-1].mean((2, 3)),
                                   rtol=RTOL, atol=ATOL)


def test_an_unmatched_key_is_an_error_that_names_it(tmp_path):
    _, path = perturbed_backbone(DEMO_CONFIG, tmp_path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint['state_dict']['backbone.extra_head.weight'] = torch.ones(2)
    torch.save(checkpoint, path)
    with pytest.raises(SystemExit, match=r"have no timm name: "
                       r"\['extra_head.weight'\]"):
        TO_TIMM.main([str(path), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()


def test_each_family_goes_to_its_own_library(tmp_path):
    _, resnet = perturbed_backbone(MULAN_DEMO_CONFIG, tmp_path / 'r')
    with pytest.raises(SystemExit, match='ResNet encoder: export it with '
                       'tools/model_converters/mmsiam_to_torchvision.py'):
        TO_TIMM.main([str(resnet), str(tmp_path / 'out.pth')])
    # The demo's width-16 ResNet-18 is no torchvision model.
    with pytest.raises(SystemExit, match='16 stem channels; torchvision '
                       'ResNets have 64'):
        TO_TORCHVISION.main([str(resnet), str(tmp_path / 'out.pth')])
    _, vit = perturbed_backbone(DEMO_CONFIG, tmp_path / 'v')
    with pytest.raises(SystemExit, match='not a ResNet encoder'):
        TO_TORCHVISION.main([str(vit), str(tmp_path / 'out.pth')])
