from mmengine.hooks import Hook

from mmsiam.registry import HOOKS


@HOOKS.register_module()
class ValidateAtStartHook(Hook):
    """Run the validation loop once before the first training iteration.

    Gives the value of the randomly initialised (or ``load_from``) model,
    e.g. its kNN accuracy, logged as epoch / iteration 0, to compare the
    training's validations with. Skipped when a run resumes.
    """
    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        if runner.val_loop is None:
            raise ValueError(
                'ValidateAtStartHook needs a validation loop: set '
                'val_dataloader, val_cfg and val_evaluator, or remove the '
                'hook from default_hooks / custom_hooks')
        runner.val_loop.run()
