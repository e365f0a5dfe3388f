from .knn_val_loop import KNNValLoop, knn_summary

__all__ = ['KNNValLoop', 'knn_summary']
