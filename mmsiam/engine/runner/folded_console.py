"""Runners whose console shows what a user reads at the start of a run.

mmengine logs three long texts before the first training line: the system
environment (~40 lines), the whole config (hundreds) and the order of the
hooks (~100), and then one line per parameter that its optimizer
constructor gives its own settings (``paramwise_options -- ...``: hundreds
for a ViT-B). They bury the lines that say what this run does (the
checks' notes, the data, the loaded checkpoint). On the console each text
becomes one line that says where it is, and a run of parameter lines one
line that counts them by setting; the log file keeps everything in full,
and the config is also dumped into the work dir as ``<config name>.py``.
"""
import logging
import os.path as osp
from collections import Counter

from mmengine.runner import FlexibleRunner, Runner

from mmsiam.registry import RUNNERS

# (start of mmengine's message, what it is)
FOLDED_MESSAGES = (
    ('\n' + '-' * 60 + '\nSystem environment:', 'System environment'),
    ('Config:\n', 'Config'),
    ('Hooks will be executed in the following order:', 'Hook order'),
)
# mmengine's DefaultOptimWrapperConstructor: 'paramwise_options -- NAME:K=V'
PARAMWISE = 'paramwise_options -- '
# Lines of the runtime environment kept on the console line that replaces
# the system environment.
KEPT_RUNTIME = ('seed', 'Distributed launcher', 'Distributed training',
                'GPU number')


def runtime_facts(environment: str) -> str:
    """``'seed: 0, Distributed launcher: pytorch, ...'`` from mmengine's
    system environment message (its :data:`KEPT_RUNTIME` lines)."""
    lines = (line.strip() for line in environment.splitlines())
    return ', '.join(line for line in lines
                     if line.split(':')[0] in KEPT_RUNTIME)


class FoldLongMessages(logging.Filter):
    """A console handler's filter: each of :data:`FOLDED_MESSAGES` is
    replaced by one line naming the log file that holds it, and a run of
    ``paramwise_options`` lines by one line before the next record.

    Args:
        handler (logging.Handler): The console handler it filters.
        log_file (str): The run's log file.
    """

    def __init__(self, handler: logging.Handler, log_file: str):
        super().__init__()
        self.handler = handler
        self.log_file = log_file
        self.settings = Counter()  # of the parameter lines held back
        self.first_held = None  # the first of them, for the summary's time

    def emit_line(self, record: logging.LogRecord, text: str) -> None:
        """``text`` on the console with ``record``'s time and level."""
        line = logging.makeLogRecord(record.__dict__)
        line.msg, line.args = text, ()
        self.handler.emit(line)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(PARAMWISE):
            self.settings[message.rsplit(':', 1)[-1]] += 1
            self.first_held = self.first_held or record
            return False
        if self.settings:
            counts = ', '.join(f'{setting}: {n}'
                               for setting, n in self.settings.items())
            self.emit_line(
                self.first_held,
                f'paramwise_options of {sum(self.settings.values())}'
                f' parameter tensors ({counts}), in {self.log_file}')
            self.settings.clear()
            self.first_held = None
        for start, name in FOLDED_MESSAGES:
            if message.startswith(start):
                facts = runtime_facts(message)
                self.emit_line(record, f'{name}: {message.count(chr(10))} '
                               f'lines, in {self.log_file}' +
                               (f' ({facts})' if facts else ''))
                return False
        return True


class FoldedConsoleMixin:
    """Puts :class:`FoldLongMessages` on the console handler of the
    runner's logger (listed before an mmengine runner class)."""

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        logger = super().build_logger(log_level, log_file, **kwargs)
        log_file = log_file or osp.join(self._log_dir,
                                        f'{self.timestamp}.log')
        for handler in logger.handlers:
            console = type(handler) is logging.StreamHandler
            if console and not any(
                    isinstance(f, FoldLongMessages) for f in handler.filters):
                handler.addFilter(FoldLongMessages(handler, log_file))
        return logger


@RUNNERS.register_module()
class FoldedConsoleRunner(FoldedConsoleMixin, Runner):
    """mmengine's ``Runner`` with :class:`FoldedConsoleMixin`."""


@RUNNERS.register_module()
class FoldedConsoleFlexibleRunner(FoldedConsoleMixin, FlexibleRunner):
    """mmengine's ``FlexibleRunner`` (FSDP) with
    :class:`FoldedConsoleMixin`."""


# runner_type of a config -> the runner tools/train.py builds for it.
FOLDED_RUNNERS = {
    None: FoldedConsoleRunner,
    'Runner': FoldedConsoleRunner,
    'FlexibleRunner': FoldedConsoleFlexibleRunner,
}


def build_runner(cfg):
    """The runner of ``cfg`` (tools/train.py, tools/test.py): the
    folded-console class of its ``runner_type``, or a registered
    ``runner_type`` as it is."""
    folded = FOLDED_RUNNERS.get(cfg.get('runner_type'))
    if folded is not None:
        return folded.from_cfg(cfg)
    from mmengine.registry import RUNNERS as ENGINE_RUNNERS
    return ENGINE_RUNNERS.build(cfg)
