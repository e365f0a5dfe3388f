"""The official SiameseIM and ConMIM training steps and data pipelines
themselves, imported at run time from a user's git checkout
(``--official-checkout`` of ``benchmark_vs_official.py``,
``benchmark_pipeline.py`` and ``gpu_check.py``), beside the steps rebuilt
from the specs (``official_steps``). Nothing of the official codes is
copied here.

The official codes were written for timm 0.3.2 / 0.6.12, torch 1.x, numpy
1.x and CUDA. :func:`install_shims` makes them import and run on mmsiam's
stack without editing their files: the modules and names that newer
releases removed (``torch._six``, ``timm.models.layers.helpers``,
``np.int``, timm's ``Nadam`` / ``RAdam`` / ``novograd``, the logging
writers), and without CUDA their ``torch.cuda.amp.autocast`` as CPU
autocast (bf16, or off in fp32: their ``autocast(enabled=False)`` regions
then keep their fp32 semantics) and ``torch.cuda.synchronize`` as a no-op.

Each ``*_step`` builds the model of the official ViT-B/16 pretraining
command, its optimizer and loss scaler, and one batch made by the official
data transforms from random images, and returns a function that runs one
whole training step of the official loop (forward with the loss, backward,
gradient clipping, AdamW, the EMA where the code puts it). Each
``*_pipeline`` returns the official data pipeline of the same command, from
an image file to the sample its training loop gets.
"""
import math
import os.path as osp
import sys
import tempfile
import types
from typing import Callable, Optional

import numpy as np
import torch

# The file that marks a checkout of each official code, and where it is.
CHECKOUT_MARKERS = dict(siameseim='models_sim.py',
                        conmim='modeling_pretrain.py')
REPOSITORIES = dict(
    siameseim='https://github.com/OpenGVLab/Siamese-Image-Modeling',
    conmim='https://github.com/TencentARC/ConMIM')


def check_checkout(method: str, path: str) -> str:
    """``path`` as an absolute path if it holds a checkout of ``method``'s
    official code; otherwise an error that says what was expected."""
    marker = osp.join(path, CHECKOUT_MARKERS[method])
    if not osp.isfile(marker):
        raise FileNotFoundError(
            f'--official-checkout {method}={path}: no '
            f'{CHECKOUT_MARKERS[method]} there; expected a git checkout of '
            f'{REPOSITORIES[method]}')
    return osp.abspath(path)


def _module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def install_shims(amp: Optional[torch.dtype]) -> None:
    """Make the official codes import and run here; call it before
    importing any of their modules (their autocast decorators are built at
    import). ``amp``: the autocast dtype of their ``torch.cuda.amp.autocast``
    on CPU, or None for fp32."""
    import timm.layers
    import timm.models.layers  # noqa: F401
    import timm.optim.nadam
    import timm.optim.radam
    if 'torch._six' not in sys.modules:
        _module('torch._six', inf=math.inf, string_classes=(str, bytes))
    for alias, kind in (('int', int), ('float', float), ('bool', bool)):
        if alias not in np.__dict__:
            setattr(np, alias, kind)
    if 'timm.models.layers.helpers' not in sys.modules:
        _module('timm.models.layers.helpers', to_2tuple=timm.layers.to_2tuple,
                to_ntuple=timm.layers.to_ntuple,
                make_divisible=timm.layers.make_divisible)
    timm.optim.nadam.__dict__.setdefault('Nadam',
                                         timm.optim.nadam.NAdamLegacy)
    timm.optim.radam.__dict__.setdefault('RAdam',
                                         timm.optim.radam.RAdamLegacy)
    try:
        import timm.optim.novograd  # noqa: F401
    except ImportError:
        from timm.optim.nvnovograd import NvNovoGrad
        _module('timm.optim.novograd', NovoGrad=NvNovoGrad)

    class NoWriter:
        """A logging writer that writes nothing (tensorboard is optional)."""

        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    for writer in ('tensorboardX', 'torch.utils.tensorboard'):
        try:
            __import__(writer)
        except ImportError:
            _module(writer, SummaryWriter=NoWriter)
    try:
        import turtle  # noqa: F401  (SiameseIM imports an unused name)
    except ImportError:
        _module('turtle', update=lambda *args, **kwargs: None)
    if not torch.cuda.is_available():

        def cpu_autocast(enabled=True, dtype=None, cache_enabled=True):
            return torch.autocast('cpu', enabled=bool(enabled)
                                  and amp is not None,
                                  dtype=amp or torch.bfloat16,
                                  cache_enabled=cache_enabled)

        torch.cuda.amp.autocast = cpu_autocast
        torch.cuda.synchronize = lambda *args, **kwargs: None


def _random_images(batch_size: int, seed: int = 0):
    from PIL import Image
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (256, 320, 3),
                                         dtype=np.uint8))
            for _ in range(batch_size)]


def siameseim_args(batch_size: int = 1, amp: bool = False,
                   device: str = 'cpu'):
    """``main_pretrain`` and its parsed arguments for the official ViT-B/16
    command (``configs/pretrain/dist_sim_base_1600ep.sh``)."""
    import timm
    # main_pretrain.py asserts the timm release it was written for.
    version, timm.__version__ = timm.__version__, '0.6.12'
    try:
        import main_pretrain
    finally:
        timm.__version__ = version
    args = main_pretrain.get_args_parser().parse_args([
        '--model', 'sim_vit_base_patch16', '--decoder_embed_dim', '768',
        '--batch_size', str(batch_size), '--epochs', '1600',
        '--warmup_epochs', '40', '--crop_min', '0.08',
        '--with_blockwise_mask', '--blockwise_num_masking_patches', '118',
        '--blr', '6.25e-5', '--weight_decay', '0.05', '--mm', '0.995',
        '--mmschedule', 'cosine', '--clip_grad', '1.0', '--loss_type', 'sim',
        '--neg_weight', '0.02', '--device', device
    ] + ([] if amp else ['--fp32']))
    return main_pretrain, args


def siameseim_masks():
    """The block-wise mask generator of the official ``ImagenetWithMask``
    with the command's 118 of 14 x 14 patches."""
    from util.masking_generator import MaskingGenerator
    return MaskingGenerator((14, 14), num_masking_patches=118,
                            max_num_patches=None, min_num_patches=16,
                            fixed_num_masking_patches=True)


def siameseim_step(checkout: str, amp: bool,
                   batch_size: int) -> Callable[[], torch.Tensor]:
    """One step of the official SiameseIM loop (``engine_pretrain.py``),
    ViT-B/16 with ``configs/pretrain/dist_sim_base_1600ep.sh``'s settings.
    Its loss all-reduces over the default process group: a one-process
    group is made if there is none."""
    import torch.distributed as dist
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if not dist.is_initialized():
        dist.init_process_group(
            'nccl' if device.type == 'cuda' else 'gloo',
            init_method='file://' + tempfile.mktemp(prefix='mmsiam_gloo_'),
            rank=0, world_size=1)
    main_pretrain, args = siameseim_args(batch_size, amp, device.type)
    import models_sim
    from timm.optim import param_groups_weight_decay
    from util.misc import NativeScalerWithGradNormCount

    lr = args.blr * 4096 / 256
    model = models_sim.__dict__[args.model](
        norm_pix_loss=args.norm_pix_loss, args=args).to(device).train()
    optimizer = torch.optim.AdamW(
        param_groups_weight_decay(model, args.weight_decay), lr=lr,
        betas=(0.9, args.beta2))
    scaler = NativeScalerWithGradNormCount(enabled=not args.fp32)
    transform = main_pretrain.DataAugmentationForSIM(args)
    masks = siameseim_masks()
    samples, _, mask = torch.utils.data.default_collate(
        [(transform(image), 0, masks()) for image in _random_images(
            batch_size)])
    view1, view2, *geometry = samples
    view1, view2, mask = (t.to(device) for t in (view1, view2, mask))
    # (delta_i, delta_j, delta_h, delta_w, relative_flip, flip_delta_j)
    relative = tuple(g.to(device) if g.dtype == torch.bool else
                     g.to(view1) for g in geometry)
    momentum = 1. - 0.5 * (1. + math.cos(0.)) * (1. - args.mm)

    def step():
        with torch.cuda.amp.autocast(enabled=not args.fp32):
            loss, _ = model(view1, view2, relative, momentum, True,
                            mask=mask)
        scaler(loss, optimizer, clip_grad=args.clip_grad,
               parameters=model.parameters(), update_grad=True)
        optimizer.zero_grad()
        return loss.detach()

    return step


class _WithModule(torch.nn.Module):
    """The ``.module`` that ConMIM's loop reads from its DDP model."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


def conmim_args(batch_size: int = 1, device: str = 'cpu'):
    """``run_conmim_pretraining`` and its parsed arguments for ViT-B/16 with
    the README's pretraining command (given for ViT-L) and layer scale 0.1
    (its help text's value for ViT-B)."""
    import run_conmim_pretraining as official
    argv, sys.argv = sys.argv, [
        'run_conmim_pretraining.py', '--model', 'conmim_base_patch16_224',
        '--mask_ratio', '0.75', '--mask_type', 'random_mps32',
        '--batch_size', str(batch_size), '--lr', '7.5e-4',
        '--warmup_epochs', '10', '--epochs', '800', '--clip_grad', '1.0',
        '--drop_path', '0', '--layer_scale_init_value', '0.1',
        '--imagenet_default_mean_and_std', '--device', device
    ]
    try:
        return official, official.get_args()
    finally:
        sys.argv = argv


def conmim_step(checkout: str, amp: bool,
                batch_size: int) -> Callable[[], torch.Tensor]:
    """One step of the official ConMIM loop: its loss and teacher EMA exist
    only inside ``engine_for_pretraining.train_one_epoch``, so each step
    calls that loop on one batch (:func:`conmim_args`). ConMIM's loop
    always autocasts: fp32 runs it on CPU with the autocast shim off (on
    CUDA, fp32 is not an official setting)."""
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    official, args = conmim_args(batch_size, device.type)
    import utils
    from datasets import DataAugmentationForConMIM
    from engine_for_pretraining import train_one_epoch
    from optim_factory import create_optimizer
    student = official.get_model(args).to(device)
    teacher = official.get_model(args).to(device)
    teacher.load_state_dict(student.state_dict(), strict=False)
    teacher.requires_grad_(False)
    optimizer = create_optimizer(args, student)
    scaler = utils.NativeScalerWithGradNormCount()
    if not scaler._scaler.is_enabled():
        # The loop logs the loss scale, which a disabled scaler lacks.
        scaler.state_dict = lambda: dict(scale=1.0)
    iters = 1000
    lr_values = utils.cosine_scheduler(args.lr, args.min_lr, args.epochs,
                                       iters,
                                       warmup_epochs=args.warmup_epochs)
    wd_values = utils.cosine_scheduler(args.weight_decay, args.weight_decay,
                                       args.epochs, iters)
    momentum_values = utils.cosine_scheduler(args.t_momentum, 1,
                                             args.epochs, iters)
    transform = DataAugmentationForConMIM(args)
    batch = torch.utils.data.default_collate(
        [(transform(image), 0) for image in _random_images(batch_size)])
    wrapped = _WithModule(student)
    steps = [0]

    def step():
        # Past the warm-up, whose first lr is 0.
        stats = train_one_epoch(
            wrapped, [batch], optimizer, device, 0, scaler, momentum_values,
            teacher, teacher, args.temp, args.clip_grad, log_writer=None,
            start_steps=args.warmup_epochs * iters + steps[0],
            lr_schedule_values=lr_values, wd_schedule_values=wd_values)
        steps[0] += 1
        return torch.tensor(stats['loss'])

    return step


STEPS = dict(siameseim=siameseim_step, conmim=conmim_step)


def import_from_checkout(method: str, checkout: str, amp: bool) -> str:
    """Make ``method``'s official code in ``checkout`` importable, with the
    shims (bf16 autocast for ``amp``); returns the checkout's absolute
    path."""
    checkout = check_checkout(method, checkout)
    install_shims(torch.bfloat16 if amp else None)
    sys.path.insert(0, checkout)
    return checkout


def official_code_step(method: str, checkout: str, amp: bool,
                       batch_size: int) -> Callable[[], torch.Tensor]:
    """The official ``method`` step from ``checkout`` (see module doc)."""
    checkout = import_from_checkout(method, checkout, amp)
    return STEPS[method](checkout, amp, batch_size)


def siameseim_pipeline() -> Callable[[str], tuple]:
    """One sample of the official ``ImagenetWithMask`` (an ``ImageFolder``):
    torchvision's PIL loader, ``DataAugmentationForSIM`` (both views with
    ``ToTensor`` and ``Normalize``, the relative geometry) and the mask."""
    from torchvision.datasets.folder import pil_loader
    main_pretrain, args = siameseim_args()
    transform = main_pretrain.DataAugmentationForSIM(args)
    masks = siameseim_masks()
    return lambda path: (transform(pil_loader(path)), masks())


def conmim_pipeline() -> Callable[[str], tuple]:
    """One sample of the official ConMIM ``ImageFolder``: its PIL loader and
    ``DataAugmentationForConMIM`` (the weak and strong views with
    ``ToTensor`` and ``Normalize``, and the mask)."""
    from dataset_folder import pil_loader
    from datasets import DataAugmentationForConMIM
    _, args = conmim_args()
    transform = DataAugmentationForConMIM(args)
    return lambda path: transform(pil_loader(path))


PIPELINES = dict(siameseim=siameseim_pipeline, conmim=conmim_pipeline)


def official_code_pipeline(method: str,
                           checkout: str) -> Callable[[str], tuple]:
    """The official ``method`` data pipeline from ``checkout``: a function
    from an image file to the sample the official training loop gets."""
    import_from_checkout(method, checkout, amp=False)
    return PIPELINES[method]()
