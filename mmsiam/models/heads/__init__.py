from .multi_task_predictor_head import (MultiTaskPredictorHead,
                                       multi_task_pairs)
from .siameseim_head import SiameseIMHead
from .standardized_linear_cls_head import StandardizedLinearClsHead

__all__ = [
    'MultiTaskPredictorHead', 'multi_task_pairs', 'SiameseIMHead',
    'StandardizedLinearClsHead'
]
