from .folded_console import (FoldedConsoleFlexibleRunner, FoldedConsoleRunner,
                             build_runner)
from .knn_val_loop import KNNValLoop, knn_summary

__all__ = [
    'KNNValLoop', 'knn_summary', 'FoldedConsoleRunner',
    'FoldedConsoleFlexibleRunner', 'build_runner'
]
