from .feature_spectrum import feature_spectrum
from .knn_accuracy import KNNAccuracy, weighted_knn_scores

__all__ = ['KNNAccuracy', 'feature_spectrum', 'weighted_knn_scores']
