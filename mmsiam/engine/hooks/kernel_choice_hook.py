import torch
from mmengine.dist import all_gather_object, all_reduce, get_dist_info
from mmengine.hooks import Hook

from mmsiam.models.layers import ATTENTION_KERNELS
from mmsiam.registry import HOOKS

# Where a checkpoint keeps the choices: ``meta[CHOICES_KEY][rank]``.
CHOICES_KEY = 'attention_kernels'


@HOOKS.register_module()
class KernelChoiceHook(Hook):
    """Keep in each checkpoint the attention kernels every process measured
    (``mmsiam.models.layers.ATTENTION_KERNELS``), and give them back to the
    processes of a resumed run.

    Each process times the kernels of an input signature the first time it
    meets it, and two processes can choose differently; a resumed run that
    measured afresh could then compute with other kernels than the run it
    continues, and differ from it in the last bits. With this hook it takes
    rank ``r``'s choices back in rank ``r`` (rank 0's if the number of
    processes changed), if they were timed on a machine like this one (same
    CPU, GPUs, threads and torch); it logs how many it took.

    Only process 0 saves checkpoints, so the choices of all processes are
    gathered after every training iteration and epoch in which any process
    made a new one (one all-reduce of a count per iteration otherwise),
    before ``CheckpointHook`` (priority ``VERY_LOW``) saves.
    """
    priority = 'LOW'

    def __init__(self):
        self.states = []
        self.gathered = -1

    def _gather(self) -> None:
        # mmengine's collectives return at once in a single process.
        made = torch.tensor(len(ATTENTION_KERNELS.chosen))
        all_reduce(made)
        if int(made) != self.gathered:
            self.states = all_gather_object(ATTENTION_KERNELS.state_dict())
            self.gathered = int(made)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._gather()

    def after_train_epoch(self, runner) -> None:
        self._gather()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[CHOICES_KEY] = self.states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get('meta', {}).get(CHOICES_KEY)
        if not states:
            return
        rank, world_size = get_dist_info()
        state = states[rank] if len(states) == world_size else states[0]
        taken = ATTENTION_KERNELS.load_state_dict(state)
        runner.logger.info(
            f'attention kernels: took {taken} of the checkpoint\'s '
            f'{len(state["chosen"])} choices' + (
                '' if taken or not state['chosen'] else
                f' (timed on another machine: {state["machine"]})'))
