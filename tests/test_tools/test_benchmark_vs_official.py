"""benchmark_vs_official.py's arguments and table: the official codes
themselves are timed from checkouts a user names (the official
repositories are not available to the tests, so the step itself is
measured in docs/performance.md)."""
import subprocess

import pytest

from helpers import load_tool

bench = load_tool('analysis_tools/benchmark_vs_official.py')


@pytest.mark.parametrize('pair,message', [
    ('siameseim', 'expected METHOD=PATH with METHOD one of'),
    ('mae=/tmp', 'expected METHOD=PATH with METHOD one of'),
])
def test_a_malformed_checkout_is_refused(pair, message, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(['--official-checkout', pair])
    assert message in capsys.readouterr().err


def test_a_folder_without_the_official_code_is_named(tmp_path):
    """Before anything runs (the documented commands name checkouts that
    this machine lacks, so parse_args leaves the paths alone)."""
    args = bench.parse_args(['--official-checkout', f'conmim={tmp_path}'])
    with pytest.raises(SystemExit) as error:
        bench.main(['--official-checkout', f'conmim={tmp_path}'])
    assert str(error.value) == (
        f'error: --official-checkout conmim={tmp_path}: no '
        'modeling_pretrain.py there; expected a git checkout of '
        'https://github.com/TencentARC/ConMIM')
    assert args.checkouts == dict(conmim=str(tmp_path))


def test_the_table_has_a_row_per_official_side(tmp_path):
    checkout = tmp_path / 'Siamese-Image-Modeling'
    checkout.mkdir()
    (checkout / 'models_sim.py').write_text('')
    git = ['git', '-C', str(checkout), '-c', 'user.name=t',
           '-c', 'user.email=t@t']
    subprocess.run(git + ['init', '-q'], check=True)
    subprocess.run(git + ['add', '.'], check=True)
    subprocess.run(git + ['commit', '-qm', 'official'], check=True)
    commit = subprocess.run(git + ['rev-parse', '--short', 'HEAD'],
                            capture_output=True, text=True).stdout.strip()
    args = bench.parse_args(['--official-checkout',
                             f'siameseim={checkout}'])
    args.checkouts = bench.check_checkouts(args.checkouts)
    assert args.checkouts == dict(siameseim=str(checkout))
    table = bench.table(args, {
        ('siameseim', 'bf16'): {'official': (1.5, 3000.),
                                'mmsiam': (1., 2700.),
                                'official-code': (2., 3300.)},
        ('conmim', 'fp32'): {'official': (3., 3000.), 'mmsiam': (2.5, 3000.)},
    }).splitlines()
    assert table[2:] == [
        '| siameseim | bf16 | rebuilt from the spec | 1.50 s | 1.00 s | x1.50 '
        '| 3000 MiB | 2700 MiB | x0.90 |',
        f'| siameseim | bf16 | official code `{commit}` | 2.00 s | 1.00 s | '
        'x2.00 | 3300 MiB | 2700 MiB | x0.82 |',
        '| conmim | fp32 | rebuilt from the spec | 3.00 s | 2.50 s | x1.20 | '
        '3000 MiB | 3000 MiB | x1.00 |',
    ]
