from mmengine.hooks import Hook

from mmsiam.registry import HOOKS


@HOOKS.register_module()
class ValidateAtStartHook(Hook):
    """Run the validation loop once before the first training iteration.

    Gives the value of the randomly initialised (or ``load_from``) model,
    e.g. its kNN accuracy, logged as epoch / iteration 0, to compare the
    training's validations with. Skipped when a run resumes, and (with one
    log line) when the run has no validation loop.
    """
    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        if runner.val_loop is None:
            # Validation switched off (val_cfg=None val_dataloader=None
            # val_evaluator=None, or --no-validate): nothing to measure.
            runner.logger.info('ValidateAtStartHook: no validation loop '
                               '(val_cfg is None), nothing to validate')
            return
        runner.val_loop.run()
