#!/usr/bin/env python
"""Draw what a pretraining config's pipeline makes of real images.

For each of ``--num`` images of the config's training set, one PNG with the
source image and every view the pipeline produces: each view's crop drawn
on the source (dashed when the view is mirrored), masks overlaid on the
masked view (SiameseIM, ConMIM), cutout rectangles (MULAN), and, for
SiameseIM, the view-2 patch centres mapped into view 1 by the relative
geometry the model receives, in matching colours.

The pipeline runs as in training, except that ``RandomResizedCrop`` records
its box (``RandomResizedCropWithBox``, the same random draws) and every
transform logs how it moved pixels, so that each view's position in the
source image is known exactly.

Example::

    python tools/analysis_tools/visualize_views.py \\
        configs/conmim/conmim_vit-tiny-p8_1xb64-coslr-4e_mnist5k_demo.py \\
        --num 4 --out work_dirs/views
"""
import argparse
import copy
import os
import os.path as osp
import random
import sys
import time
from typing import List, Optional

import numpy as np
from mmengine.config import DictAction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

PANEL_INCHES = 2.4
DPI = 100
# Transforms the trace follows; any other one must keep the image size.
CROPS = ('RandomResizedCrop', 'RandomResizedCropWithBox')
FLIPS = ('RandomFlip', )
# The decoding step of pipelines that read files (not traced).
LOADERS = ('LoadImageFromFile', 'LoadImageOrSkip')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the views of a pretraining pipeline')
    parser.add_argument('config', help='a pretraining config')
    parser.add_argument('--num', type=int, default=4,
                        help='number of images (default 4)')
    parser.add_argument('--out', help='output folder (default: work_dirs/'
                        'visualize_views/<config>/<timestamp>)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the augmentations (default 0)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config as in tools/train.py, e.g. '
        'train_dataloader.dataset.dataset.type=UnlabeledImageFolder '
        'train_dataloader.dataset.dataset.data_root=/path/to/photos')
    return parser.parse_args(argv)


class AxisMap:
    """``source = scale * coordinate + offset`` along one image axis, in
    continuous pixel coordinates (pixel i covers [i, i + 1))."""

    def __init__(self, scale: float = 1., offset: float = 0.):
        self.scale, self.offset = scale, offset

    def __call__(self, x):
        return self.scale * np.asarray(x, dtype=np.float64) + self.offset

    def inverse(self, source):
        return (np.asarray(source, dtype=np.float64) -
                self.offset) / self.scale

    def then(self, scale: float, offset: float) -> 'AxisMap':
        """This map after a step ``previous = scale * new + offset``."""
        return AxisMap(self.scale * scale, self.scale * offset + self.offset)


class ViewGeometry:
    """Where a view's pixels come from in the source image.

    Built from the trace events of one view, in pipeline order: ``('crop',
    (top, left, h, w), out_hw)`` and ``('flip', direction, hw)``.

    Attributes:
        rows, cols (AxisMap): view pixel coordinate -> source coordinate.
    """

    def __init__(self, events: List[tuple]):
        self.rows, self.cols = AxisMap(), AxisMap()
        for kind, value, hw in events:
            if kind == 'crop':
                (top, left, h, w), (out_h, out_w) = value, hw
                self.rows = self.rows.then(h / out_h, top)
                self.cols = self.cols.then(w / out_w, left)
            elif value == 'horizontal':
                self.cols = self.cols.then(-1., hw[1])
            elif value == 'vertical':
                self.rows = self.rows.then(-1., hw[0])
            else:
                raise ValueError(f'cannot trace a "{value}" flip')

    @property
    def mirrored(self) -> bool:
        return self.cols.scale < 0

    def source_box(self, height: int, width: int):
        """``(top, left, h, w)`` of the view's frame in the source."""
        rows, cols = self.rows([0, height]), self.cols([0, width])
        return rows.min(), cols.min(), np.ptp(rows), np.ptp(cols)


def traced(transform_cfg: dict) -> dict:
    """A config that runs ``transform_cfg`` and logs its geometry."""
    cfg = dict(transform_cfg)
    if cfg['type'] == 'RandomResizedCrop':
        cfg['type'] = 'RandomResizedCropWithBox'
    return dict(type='TracedTransform', transform=cfg)


def traced_pipeline(pipeline: List[dict]) -> List[dict]:
    """``pipeline`` without packing, every view transform traced and
    ``MultiViewWithKeys`` keeping each view's trace and extra keys."""
    out = []
    for cfg in pipeline:
        name = cfg['type']
        if name.startswith('Pack'):
            continue
        if name == 'MultiViewWithKeys':
            cfg = copy.deepcopy(cfg)
            cfg['transforms'] = [[traced(t) for t in group]
                                 for group in cfg['transforms']]
            cfg['keys'] = list(cfg.get('keys', ())) + ['trace', 'extras']
            out.append(cfg)
        elif name in CROPS + FLIPS:
            out.append(traced(cfg))
        else:
            out.append(cfg)
    return out


def register_traced_transform():
    from mmcv.transforms import BaseTransform

    from mmsiam.registry import TRANSFORMS

    class TracedTransform(BaseTransform):
        """Runs a transform; appends its geometry to ``results['trace']``
        and puts its cutout box in ``results['extras']`` (both set up by
        ``build_sampler``)."""

        def __init__(self, transform: dict):
            self.transform_type = transform['type']
            self.inner = TRANSFORMS.build(transform)

        def transform(self, results: dict) -> dict:
            before = results['img'].shape[:2]
            results = self.inner(results)
            after = results['img'].shape[:2]
            if self.transform_type in CROPS:
                results['trace'].append(('crop', results['crop_box'], after))
            elif self.transform_type in FLIPS:
                if results.get('flip'):
                    results['trace'].append(
                        ('flip', results['flip_direction'], after))
            elif before != after:
                raise ValueError(
                    f'visualize_views.py cannot follow {self.transform_type},'
                    f' which changed the image size {before} -> {after}')
            if 'cutout_box' in results:
                results['extras']['cutout_box'] = results.pop('cutout_box')
            return results

    TRANSFORMS.register_module(module=TracedTransform, force=True)


def build_sampler(cfg):
    """The config's training dataset and a function ``sample(index)`` that
    runs the traced pipeline on it."""
    from mmcv.transforms import Compose
    from mmengine import DefaultScope

    from mmsiam.datasets import unwrap_seeded
    from mmsiam.registry import DATASETS, TRANSFORMS
    from mmsiam.utils import register_all_modules
    register_all_modules()
    register_traced_transform()
    dataset_cfg = copy.deepcopy(unwrap_seeded(cfg.train_dataloader.dataset))
    pipeline = list(dataset_cfg.pop('pipeline'))
    if pipeline and str(pipeline[0].get('type')).split('.')[-1] in LOADERS:
        pipeline = pipeline[1:]
    with DefaultScope.overwrite_default_scope('mmsiam'):
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
        transforms = Compose(
            [TRANSFORMS.build(t) for t in traced_pipeline(pipeline)])
        # Data sets of files (ImageNet, image folders) give paths: decode
        # the source image first, as the pipeline's loading step does.
        load = TRANSFORMS.build(dict(type='LoadImageFromFile'))

    def sample(index: int) -> dict:
        results = dataset.get_data_info(index)
        if 'img' not in results:
            results = load(results)
        results['trace'], results['extras'] = [], {}
        source = results['img'].copy()
        results = transforms(results)
        results['source'] = source
        return results

    return dataset, sample


def as_views(results: dict) -> list:
    """One dict per view: ``img``, ``geometry``, ``cutout_box``."""
    images = results['img']
    if not isinstance(images, list):
        images = [images]
        results = dict(results, trace=[results['trace']],
                       extras=[results['extras']])
    types = results.get('view_type') or [None] * len(images)
    return [
        dict(img=img, geometry=ViewGeometry(trace), view_type=kind,
             cutout_box=extras.get('cutout_box'))
        for img, trace, extras, kind in zip(images, results['trace'],
                                            results['extras'], types)
    ]


def mapped_patch_centres(results: dict, grid_size: int):
    """SiameseIM: view-2 patch centres in view-1 patch units, from the
    ``relative_geometry`` the model receives.

    Returns:
        tuple[np.ndarray, np.ndarray]: rows, cols ``(G*G,)``.
    """
    from mmsiam.models.utils import relative_patch_centres
    gh, gw = relative_patch_centres(results['relative_geometry'][None],
                                    grid_size)
    return gh[0].numpy(), gw[0].numpy()


def patch_centre_pixels(size: int, grid_size: int):
    """Centres of the ``G x G`` patches of a ``size``-pixel square view, in
    continuous pixel coordinates.

    Returns:
        tuple[np.ndarray, np.ndarray]: rows, cols ``(G*G,)``, row-major.
    """
    centres = (np.arange(grid_size) + 0.5) * size / grid_size
    rows, cols = np.meshgrid(centres, centres, indexing='ij')
    return rows.ravel(), cols.ravel()


def traced_patch_centres(views: list, grid_size: int):
    """The same centres found through the traced geometry of both views:
    view-2 pixel centres -> source -> view-1 pixels -> patch units."""
    rows, cols = patch_centre_pixels(views[1]['img'].shape[0], grid_size)
    g1, g2 = views[0]['geometry'], views[1]['geometry']
    patch1 = views[0]['img'].shape[0] / grid_size
    return (g1.rows.inverse(g2.rows(rows)) / patch1 - 0.5,
            g1.cols.inverse(g2.cols(cols)) / patch1 - 0.5)


def to_rgb(img: np.ndarray) -> np.ndarray:
    """mmcv images are BGR."""
    return img[..., ::-1] if img.ndim == 3 else img


def view_title(index: int, view: dict) -> str:
    kind = f' {view["view_type"]}' if view['view_type'] else ''
    flip = ', mirrored' if view['geometry'].mirrored else ''
    return f'view {index + 1}{kind}{flip}'


def draw(results: dict, grid_size: Optional[int], path: str) -> None:
    """One PNG of a sample at ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    views = as_views(results)
    mask = results.get('mask')
    siameseim = 'relative_geometry' in results
    columns = 1 + len(views)
    fig, axes = plt.subplots(
        1, columns, figsize=(PANEL_INCHES * columns, PANEL_INCHES + 0.4),
        dpi=DPI, squeeze=False)
    axes = axes[0]
    colours = plt.get_cmap('tab10')
    source = results['source']
    axes[0].imshow(to_rgb(source), cmap='gray')
    axes[0].set_title(f'source {source.shape[1]}x{source.shape[0]}',
                      fontsize=8)
    for index, view in enumerate(views):
        height, width = view['img'].shape[:2]
        top, left, h, w = view['geometry'].source_box(height, width)
        axes[0].add_patch(
            Rectangle((left - .5, top - .5), w, h, fill=False, lw=1.5,
                      color=colours(index),
                      ls='--' if view['geometry'].mirrored else '-'))
        ax = axes[1 + index]
        ax.imshow(to_rgb(view['img']), cmap='gray')
        ax.set_title(view_title(index, view), fontsize=8,
                     color=colours(index))
        if view['cutout_box'] is not None:
            c_top, c_left, c_h, c_w = view['cutout_box']
            ax.add_patch(Rectangle((c_left - .5, c_top - .5), c_w, c_h,
                                   fill=False, lw=1.5, color='red'))
        if mask is not None and index == 0:
            overlay = np.zeros((*np.shape(mask), 4))
            overlay[np.asarray(mask, dtype=bool)] = (1., 0., 0., 0.45)
            ax.imshow(overlay, extent=(-.5, width - .5, height - .5, -.5),
                      interpolation='nearest')
    if siameseim and grid_size:
        rows, cols = mapped_patch_centres(results, grid_size)
        patch1 = views[0]['img'].shape[0] / grid_size
        hue = np.arange(grid_size * grid_size)
        inside = ((rows > -0.5) & (rows < grid_size - 0.5) &
                  (cols > -0.5) & (cols < grid_size - 0.5))
        # imshow puts pixel i's centre at i: continuous coordinate - 0.5.
        axes[1].scatter((cols[inside] + .5) * patch1 - .5,
                        (rows[inside] + .5) * patch1 - .5, c=hue[inside],
                        cmap='viridis', s=6, vmin=0, vmax=hue[-1])
        own_rows, own_cols = patch_centre_pixels(views[1]['img'].shape[0],
                                                 grid_size)
        axes[2].scatter(own_cols[inside] - .5, own_rows[inside] - .5,
                        c=hue[inside], cmap='viridis', s=6, vmin=0,
                        vmax=hue[-1])
        axes[1].set_xlabel('view-2 patches mapped here', fontsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def grid_size_of(cfg) -> Optional[int]:
    """Patches per side of the config's masked / related views."""
    head = cfg.model.get('head', {})
    if 'grid_size' in head:
        return head['grid_size']
    backbone = cfg.model.get('backbone', {})
    if 'img_size' in backbone and 'patch_size' in backbone:
        return backbone['img_size'] // backbone['patch_size']
    return None


def main(argv=None):
    args = parse_args(argv)
    from mmsiam.runtime import setup_runtime
    setup_runtime()
    from mmengine.config import Config
    from mmengine.utils import ProgressBar

    if args.num < 1:
        raise SystemExit('--num must be >= 1')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', 'visualize_views', name,
                               time.strftime('%Y%m%d_%H%M%S'))
    dataset, sample = build_sampler(cfg)
    np.random.seed(args.seed)
    random.seed(args.seed)
    indices = np.linspace(0, len(dataset) - 1, args.num).round().astype(int)
    paths = [osp.join(out, f'{name}_{i:06d}.png') for i in indices]
    existing = [p for p in paths if osp.exists(p)]
    if existing:
        raise SystemExit(f'{existing[0]} exists; choose another --out')
    os.makedirs(out, exist_ok=True)
    progress = ProgressBar(len(paths))
    for index, path in zip(indices, paths):
        draw(sample(int(index)), grid_size_of(cfg), path)
        progress.update()
    print(f'\n{len(paths)} PNGs written to {out}')
    return paths


if __name__ == '__main__':
    main()
