"""tools/analysis_tools/gpu_check.py on CPU: its arguments, its table, and a
real run of its processes (one process, and DDP / FSDP over gloo), which on
a GPU machine run over NCCL."""
import re
import subprocess
import sys

import pytest

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, MULAN_DEMO_CONFIG,
                     REPO, load_tool, run_tool)

gpu_check = load_tool('analysis_tools/gpu_check.py')
GPU_CHECK = f'{REPO}/tools/analysis_tools/gpu_check.py'


def test_help_names_every_option():
    out = subprocess.run([sys.executable, GPU_CHECK, '--help'],
                         capture_output=True, text=True, check=True).stdout
    for option in ('--precisions', '--strategies', '--attention',
                   '--official-checkout', '--processes', '--device'):
        assert option in out


def test_every_paper_config_is_checked_by_default():
    args = gpu_check.parse_args(['--device', 'cpu'])
    assert args.configs == gpu_check.PAPER_CONFIGS
    names = [path.rsplit('/', 2)[-2:] for path in args.configs]
    assert ['siameseim', 'siameseim_vit-base-p16_32xb128-amp-coslr-'
            '1600e_in1k.py'] in names
    assert not [n for n in names if n[1].endswith('_demo.py')]
    assert {folder for folder, _ in names} == {'siameseim', 'conmim',
                                               'mulan'}
    # On CPU: 2 gloo processes for DDP and FSDP; fp16 and bf16 AMP.
    assert args.strategies == ['single', 'ddp', 'fsdp']
    assert args.precisions == ['fp16', 'bf16']


@pytest.mark.parametrize('argv,message', [
    (['--device', 'cuda'], '--device cuda: no CUDA device here; --device '
     'cpu runs the same check'),
    (['--device', 'cpu', 'configs/nope.py'],
     'configs/nope.py: no such config file'),
    (['--device', 'cpu', '--processes', '1', '--strategies', 'ddp'],
     '--strategies ddp / fsdp need 2 processes or more'),
    (['--device', 'cpu', '--iters', '0'], '--iters and --warmup must be 1'),
    (['--device', 'cpu', '--warmup', '0'], 'the EMA check needs an earlier'),
    (['--device', 'cpu', '--official-checkout', 'conmim'],
     'expected METHOD=PATH'),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit):
        gpu_check.parse_args(argv)
    assert message in capsys.readouterr().err


def test_the_table_shows_results_and_failures():
    rows = [
        dict(config='a.py', strategy='ddp', processes=2, precision='fp16',
             attention='auto', batch_size=8, step_s=0.25, images_per_s=64.,
             mfu=0.412, mfu_peak='data sheet', peak_mib=1234.4,
             losses='finite, scale 65536', ema='ok: m=0.00500, moved 1.0e-03, '
             'error 0.0e+00', official_step_s=0.5),
        dict(config='a.py', strategy='single', precision='bf16',
             attention='efficient', error='RuntimeError: No available kernel'),
    ]
    lines = gpu_check.table(rows).splitlines()
    assert lines[2] == (
        '| a.py | ddp x2 | fp16 | auto | 8 | 0.250 s | 64.0 | 41.2 % (data '
        'sheet) | 1234 MiB | finite, scale 65536 | ok: m=0.00500, moved '
        '1.0e-03, error 0.0e+00 | 0.500 s (mmsiam x2.00) |')
    assert lines[3].startswith('| a.py | single | bf16 | efficient | - | '
                               'failed: RuntimeError: No available kernel |')
    assert all(line.count('|') == lines[0].count('|') for line in lines)


def _rows(output):
    """The rows of the final table (the progress lines come before it)."""
    table = output[output.rindex('| config |'):]
    return [line for line in table.splitlines()[2:] if line.startswith('| ')]


@pytest.mark.slow
def test_one_process_checks_precisions_kernels_and_the_ema(tmp_path):
    """SiameseIM's demo: fp32 and fp16 with its GradScaler, the measured
    kernel, torch's math backend, the explicit products and the
    memory-efficient backend (no CPU kernel: a failed row, the others
    run)."""
    out = tmp_path / 'rows.json'
    proc = run_tool([GPU_CHECK, DEMO_CONFIG, '--device', 'cpu',
                     '--strategies', 'single', '--precisions', 'fp32',
                     'fp16', '--attention', 'auto', 'math', 'explicit',
                     'efficient', '--batch-size', '4', '--iters', '2',
                     '--warmup', '1', '--out', out], check=False)
    rows = _rows(proc.stdout)
    assert len(rows) == 8, proc.stdout
    assert proc.returncode == 1  # the failed rows
    for row in rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        if cells[3] == 'efficient':
            assert cells[5].startswith('failed: RuntimeError'), row
            continue
        assert cells[:5] == [
            'siameseim_vit-tiny-p8_1xb64-coslr-10e_mnist5k_demo.py',
            'single', cells[2], cells[3], '4'], row
        assert re.fullmatch(r'[0-9.]+ s', cells[5])
        assert re.fullmatch(r'[0-9.]+ % \(measured matmul\)', cells[7])
        assert re.fullmatch('finite' if cells[2] == 'fp32' else
                            r'finite, scale [0-9.e+]+', cells[9]), row
        assert cells[10].startswith('ok: m=0.'), row
    assert out.is_file()


@pytest.mark.slow
@pytest.mark.parametrize('config', [CONMIM_DEMO_CONFIG, MULAN_DEMO_CONFIG],
                         ids=['conmim', 'mulan'])
def test_ddp_and_fsdp_processes_run_over_gloo(config):
    """Two processes per strategy, bf16 and fp16 with a GradScaler (under
    FSDP with fused AdamW: torch's ShardedGradScaler failed there, which
    this check found); ConMIM's teacher moves after the step, MULAN's
    BatchNorms synchronise under DDP."""
    proc = run_tool([GPU_CHECK, config, '--device', 'cpu', '--strategies',
                     'ddp', 'fsdp', '--precisions', 'bf16', 'fp16',
                     '--batch-size', '4', '--iters', '1', '--warmup', '1'],
                    timeout=900)
    rows = [[cell.strip() for cell in row.strip('|').split('|')]
            for row in _rows(proc.stdout)]
    assert [row[1:3] for row in rows] == [
        ['ddp x2', 'bf16'], ['ddp x2', 'fp16'], ['fsdp x2', 'bf16'],
        ['fsdp x2', 'fp16']], proc.stdout
    for row in rows:
        assert re.fullmatch(r'finite(, scale [0-9.e+]+)?', row[9]), row
        assert row[10].startswith('ok: m='), row
