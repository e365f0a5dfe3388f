from .knn_accuracy import KNNAccuracy, weighted_knn_scores

__all__ = ['KNNAccuracy', 'weighted_knn_scores']
