"""Pretraining on a folder of one's own images: no labels, no list file."""
import os.path as osp
from typing import List, Sequence

from mmengine.fileio import get_file_backend
from mmengine.logging import print_log
from mmpretrain.datasets import CustomDataset

from mmsiam.registry import DATASETS

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp')
# Transforms that read ``img_path``; a pipeline without one gets the first.
LOADING_TRANSFORMS = ('LoadImageFromFile', 'LoadImageOrSkip')


@DATASETS.register_module()
class UnlabeledImageFolder(CustomDataset):
    """Every image under ``data_root``, recursively, for pretraining.

    mmpretrain's ``CustomDataset`` without labels (``with_label=False``,
    no ``ann_file``), with the scan of a photo collection: files are found
    in all subfolders at any depth and kept when their extension is one of
    ``extensions`` in any case (``.JPG`` counts). Other files (sidecars,
    videos) are skipped, with one log line that counts them; hidden files
    (``.DS_Store``, names starting with a dot) are not listed at all.
    A missing folder, or one without images, is an error that names it.

    Samples are ``dict(img_path=...)`` in sorted path order. When the
    pipeline does not start with a loading transform (the MNIST5k configs'
    pipelines, whose dataset gives decoded images), ``LoadImageOrSkip`` is
    put first, so that any pretraining config switches to this dataset by
    setting ``train_dataloader.dataset.dataset``'s ``type`` and
    ``data_root`` (docs/custom_data.md), and a corrupt or truncated photo
    is skipped with a warning naming it instead of ending the run.

    Args:
        data_root (str): The folder of images.
        pipeline (Sequence[dict]): The method's training pipeline.
        extensions (Sequence[str]): Image extensions, lower case with the
            dot. Defaults to jpg, jpeg, png, webp and bmp.
        **kwargs: Other ``CustomDataset`` / ``BaseDataset`` arguments
            (``lazy_init``, ``max_refetch``...).
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence[dict] = (),
                 extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 **kwargs):
        pipeline = list(pipeline)
        if not pipeline or not (isinstance(pipeline[0], dict) and str(
                pipeline[0].get('type', '')).split('.')[-1]
                                in LOADING_TRANSFORMS):
            pipeline.insert(0, dict(type='LoadImageOrSkip'))
        # CustomDataset keeps its extensions as an unordered set; the
        # messages list them in the given order.
        self.image_extensions = tuple(e.lower() for e in extensions)
        super().__init__(
            data_root=data_root,
            with_label=False,
            extensions=self.image_extensions,
            pipeline=pipeline,
            **kwargs)

    def _find_samples(self) -> List[str]:
        """Paths of the images under the folder, relative to it, sorted."""
        root = self.img_prefix.rstrip('/') or '/'
        backend = get_file_backend(root, enable_singleton=True)
        if not backend.isdir(root):
            raise FileNotFoundError(
                f'UnlabeledImageFolder: data_root {root!r} is not a folder')
        files = sorted(backend.list_dir_or_file(
            root, list_dir=False, recursive=True))
        images = [f for f in files
                  if osp.splitext(f)[1].lower() in self.image_extensions]
        if not images:
            raise FileNotFoundError(
                f'UnlabeledImageFolder: no images under {root!r} ('
                f'{len(files)} other files); expected files ending in '
                f'{", ".join(self.image_extensions)} (any case), in any '
                'subfolder')
        skipped = len(files) - len(images)
        if skipped:
            files_word = 'file that is' if skipped == 1 else 'files that are'
            print_log(
                f'UnlabeledImageFolder: {len(images)} images under {root}; '
                f'skipped {skipped} {files_word} not '
                f'{"/".join(e[1:] for e in self.image_extensions)}',
                logger='current')
        return images
