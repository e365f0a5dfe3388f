"""mmengine's long start-up texts fold into one console line each, while
the log file keeps them (issue #33 item 13)."""
import io
import logging

from mmsiam.engine.runner.folded_console import FoldLongMessages

CONFIG = 'Config:\n' + '\n'.join(f'key_{i} = {i}' for i in range(300))
ENVIRONMENT = ('\n' + '-' * 60 + '\nSystem environment:\n    Python: 3.11\n'
               '\nRuntime environment:\n    seed: 7\n'
               "    dist_cfg: {'backend': 'nccl'}\n"
               '    Distributed training: True\n' + '-' * 60)


def logged(messages, tmp_path):
    """``(level, message)`` pairs through a logger with a folded console
    and a file; returns (console text, file text)."""
    logger = logging.getLogger(f'folded_{tmp_path.name}')
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = logging.StreamHandler(io.StringIO())
    console.setFormatter(logging.Formatter('%(levelname)s %(message)s'))
    log_file = tmp_path / 'run.log'
    file = logging.FileHandler(log_file)
    for handler in (console, file):
        logger.addHandler(handler)
    console.addFilter(FoldLongMessages(console, str(log_file)))
    for level, message in messages:
        logger.log(level, message)
    file.close()
    return console.stream.getvalue(), log_file.read_text()


def test_long_texts_are_one_console_line_and_whole_in_the_file(tmp_path):
    console, file = logged([(logging.INFO, ENVIRONMENT),
                            (logging.INFO, CONFIG),
                            (logging.INFO, 'Epoch(train) [1][1/4]')],
                           tmp_path)
    assert console.splitlines() == [
        f'INFO System environment: 9 lines, in {tmp_path}/run.log (seed: '
        '7, Distributed training: True)',
        f'INFO Config: 300 lines, in {tmp_path}/run.log',
        'INFO Epoch(train) [1][1/4]',
    ]
    assert CONFIG in file and ENVIRONMENT in file


def test_parameter_lines_are_counted_by_setting(tmp_path):
    """The count comes before the next record, at the parameter lines'
    own level."""
    lines = [(logging.INFO, f'paramwise_options -- backbone.layers.{i}.ln1.'
              'weight:weight_decay=0.0') for i in range(12)]
    lines += [(logging.INFO,
               'paramwise_options -- backbone.cls_token:lr_mult=0.5'),
              (logging.WARNING, 'backbone.pos_embed is skipped')]
    console, file = logged(lines, tmp_path)
    assert console.splitlines() == [
        'INFO paramwise_options of 13 parameter tensors (weight_decay=0.0: '
        f'12, lr_mult=0.5: 1), in {tmp_path}/run.log',
        'WARNING backbone.pos_embed is skipped',
    ]
    assert file.count('paramwise_options -- ') == 13
