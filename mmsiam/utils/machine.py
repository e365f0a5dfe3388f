"""What machine a measurement was made on: speed depends on it (an Intel
Xeon with AMX and an AMD EPYC without differ in which kernel wins)."""
import os
import platform

import torch


def cpu_model(cpuinfo: str = '/proc/cpuinfo') -> str:
    """The CPU's model name and core count ('Intel(R) Xeon(R) Processor,
    2 cores'), or the platform's processor where there is no
    ``/proc/cpuinfo``."""
    try:
        with open(cpuinfo) as f:
            names = [line.split(':', 1)[1].strip() for line in f
                     if line.startswith('model name')]
    except OSError:
        names = []
    name = names[0] if names else (platform.processor() or 'unknown CPU')
    return f'{name}, {os.cpu_count()} cores'


def machine_name() -> str:
    """The CPU, the CUDA devices (if any), this process's intra-op threads
    and torch's version: what a kernel timing depends on."""
    parts = [cpu_model()]
    if torch.cuda.is_available():
        parts += [torch.cuda.get_device_name(i)
                  for i in range(torch.cuda.device_count())]
    parts += [f'{torch.get_num_threads()} threads',
              f'torch {torch.__version__}']
    return '; '.join(parts)
