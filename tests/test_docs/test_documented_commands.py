"""Every command block of the README and docs is checked as a newcomer
would type it (issue #33): the tools and configs it names exist, the tool
accepts its arguments, and each config it names loads with its
``--cfg-options`` and passes the checks ``tools/train.py`` runs before it
reads any data (a data set that is not on this machine is the one thing
allowed to be missing). Usage lines (``[--opt]`` in brackets) must name
options the tool has. The commands that run on a CPU are also run, end to
end, by the slow tests of the tools they call."""
import contextlib
import glob
import io
import os.path as osp
import re
import shlex

import pytest
from mmengine.config import Config

from helpers import REPO, load_tool
from mmsiam.config_checks import check_config

DOCS = [osp.join(REPO, 'README.md')] + sorted(
    glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True))
# Programs the docs may call that are not this repository's.
OTHER_PROGRAMS = {'pip', 'source', 'cd', 'git', 'export', 'ls', 'mkdir',
                  'tensorboard', 'nvidia-smi', 'srun', 'sbatch', 'rm', 'cp',
                  'wget', 'curl', 'kill', 'echo', 'cat', 'unzip', 'tar',
                  'mkdocs'}
PYTHONS = ('python', 'python3', '.venv/bin/python')
# Shell launchers: (the Python tool they run, positional arguments first).
LAUNCHERS = {
    'tools/dist_train.sh': ('tools/train.py', ['CONFIG', 'GPUS']),
    'tools/dist_test.sh': ('tools/test.py', ['CONFIG', 'CHECKPOINT', 'GPUS']),
    'tools/slurm_train.sh':
    ('tools/train.py', ['PARTITION', 'JOB_NAME', 'CONFIG', 'WORK_DIR']),
    'tools/slurm_test.sh':
    ('tools/test.py', ['PARTITION', 'JOB_NAME', 'CONFIG', 'CHECKPOINT']),
}
for family in ('classification', 'mmdet', 'mmseg'):
    LAUNCHERS[f'tools/benchmarks/{family}/dist_train.sh'] = (
        'tools/train.py', ['CONFIG', 'PRETRAIN', 'GPUS'])


def command_blocks():
    """``(doc, index, text)`` of every ```bash block."""
    for doc in DOCS:
        text = open(doc).read()
        for i, block in enumerate(
                re.findall(r'^```bash\n(.*?)^```', text, re.S | re.M)):
            yield osp.relpath(doc, REPO), i, block


def commands(block):
    """The commands of a block: continuation lines joined, comments and
    ``VAR=value`` assignments resolved, split at ``&&``, ``;`` and ``|``;
    each a list of words without leading ``VAR=value`` settings."""
    variables = {}
    joined = re.sub(r'\\\n\s*', ' ', block)
    for line in joined.splitlines():
        # '|' between alternatives of a usage line is not a pipe
        line = re.sub(r'[\[{][^\]}]*[\]}]',
                      lambda m: m[0].replace('|', ','), line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars='&;|')
        lexer.whitespace_split = True
        lexer.commenters = '#'
        words = []
        for word in list(lexer) + [';']:
            if word in ('&&', ';', '|', '||', '&'):
                while words and re.fullmatch(r'[A-Z_]+=\S*', words[0]):
                    name, value = words.pop(0).split('=', 1)
                    if not words:
                        variables[name] = value
                if words:
                    yield words
                words = []
            else:
                words.append(re.sub(r'\$\{?([A-Z_]+)\}?',
                                    lambda m: variables.get(m[1], m[0]),
                                    word))


def is_usage(words):
    """A usage line: optional parts in brackets, alternatives in braces."""
    return any(w.startswith('[') or w.endswith(']') or w == '...'
               or w.startswith('{') for w in words)


def tool_help(tool):
    """The ``--help`` text of a Python tool of this repository."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        load_tool(tool[len('tools/'):]).parse_args(['--help'])
    return out.getvalue()


def check_python_tool(tool, args, where):
    assert osp.isfile(osp.join(REPO, tool)), f'{where}: no {tool}'
    if is_usage(args):
        known = tool_help(tool)
        for option in re.findall(r'--[a-z][a-z-]*', ' '.join(args)):
            assert option in known, f'{where}: {tool} has no {option}'
        return
    module = load_tool(tool[len('tools/'):])
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            parsed = module.parse_args(args)
        except SystemExit as exit_:
            pytest.fail(f'{where}: {tool} {shlex.join(args)}: '
                        f'{err.getvalue() or exit_}')
    if tool in ('tools/train.py', 'tools/test.py'):
        check_named_config(module, parsed, tool, where)


def check_named_config(module, args, tool, where):
    """A config of this repository loads with the command's options and
    passes the checks made before any data is read."""
    config = args.config
    if not config.startswith('configs/'):
        return  # a placeholder (CONFIG) or the user's own file
    assert osp.isfile(osp.join(REPO, config)), f'{where}: no {config}'
    cfg = Config.fromfile(osp.join(REPO, config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if getattr(args, 'demo_scale', None) or getattr(args, 'resume', None):
        return  # they read a checkpoint or a work dir first
    phase = 'train' if tool == 'tools/train.py' else 'test'
    try:
        check_config(module.merge_args(cfg, args), phase=phase)
    except FileNotFoundError as err:  # a data set this machine lacks
        assert 'data' in str(err), f'{where}: {err}'


def check_command(words, where):
    program, args = words[0], words[1:]
    if program in PYTHONS:
        if args[0] == '-m':
            return  # a module of an installed package (pytest, mkdocs)
        check_python_tool(args[0], args[1:], where)
    elif program in LAUNCHERS:
        assert osp.isfile(osp.join(REPO, program)), f'{where}: no {program}'
        tool, positional = LAUNCHERS[program]
        if is_usage(args):
            check_python_tool(tool, args, where)
            return
        assert len(args) >= len(positional), f'{where}: {shlex.join(words)}'
        given = dict(zip(positional, args))
        launcher = 'slurm' if 'slurm' in program else 'pytorch'
        rest = args[len(positional):] + ['--launcher', launcher]
        if 'PRETRAIN' in given:
            rest = ['--cfg-options', 'model.backbone.init_cfg.checkpoint='
                    f'{given["PRETRAIN"]}'] + rest
        if 'CHECKPOINT' in given:
            rest = [given['CHECKPOINT']] + rest
        check_python_tool(tool, [given['CONFIG']] + rest, where)
    elif program == 'make':
        targets = re.findall(r'^([a-z-]+):', open(
            osp.join(REPO, 'Makefile')).read(), re.M)
        for target in (a for a in args if '=' not in a):  # VAR=value
            assert target in targets, f'{where}: make has no {target}'
    elif program.startswith(('tools/', './tools/')):
        assert osp.isfile(osp.join(REPO, program)), f'{where}: no {program}'
    else:
        assert program in OTHER_PROGRAMS, (
            f'{where}: {program} is neither a tool of this repository nor a '
            'known program; add it to OTHER_PROGRAMS if it is right')


BLOCKS = list(command_blocks())


def test_the_docs_have_command_blocks():
    assert len(BLOCKS) > 40


@pytest.mark.parametrize('doc, index, block', BLOCKS,
                         ids=[f'{d}#{i}' for d, i, _ in BLOCKS])
def test_documented_command_block(doc, index, block):
    for words in commands(block):
        check_command(words, f'{doc}, command block {index}')
