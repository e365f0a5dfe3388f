"""Choose between interchangeable kernels by timing them on the machine at
hand, once per process and input signature, instead of by a rule tuned on
one CPU."""
import os
from typing import Callable, Dict, Hashable, Optional

import torch
from mmengine.logging import print_log

from mmsiam.utils.machine import machine_name
from mmsiam.utils.timing import seconds_of

AUTO = 'auto'


def time_call(run: Callable[[], None], device: torch.device,
              repeats: int = 3) -> float:
    """The fastest of ``repeats`` timed calls of ``run``, in seconds, after
    one untimed call (CUDA synchronised around each)."""
    run()
    return min(seconds_of(run, device) for _ in range(repeats))


class KernelChoice:
    """The fastest of several kernels that compute the same thing, measured
    the first time each input signature (device, dtype, shapes, ...) is
    met in this process, then kept; every choice is logged.

    A setting forces one kernel instead: :meth:`force` (the config key that
    ``tools/train.py`` and ``tools/test.py`` read) or, when that is left at
    ``'auto'``, the environment variable ``env_var``.

    Choices are per process: two processes (two ranks, or two runs) can
    time the same signature differently and take different kernels, whose
    results differ in the last bits. A checkpoint keeps each process's
    choices (:meth:`state_dict`, ``KernelChoiceHook``), so that a resumed
    run computes with the kernels of the run it continues.

    Args:
        what (str): What the kernels compute, for the log and errors
            (``'attention'``).
        candidates (dict): Kernel name to callable, all with the same
            signature and results.
        env_var (str): The environment variable that can force a kernel.
        setting_key (str): The config key that can force one, for errors.
    """

    def __init__(self, what: str, candidates: Dict[str, Callable],
                 env_var: str, setting_key: str):
        self.what = what
        self.candidates = candidates
        self.env_var = env_var
        self.setting_key = setting_key
        self.setting = AUTO
        self.chosen: Dict[Hashable, str] = {}

    def _checked(self, name: str, source: str) -> str:
        if name != AUTO and name not in self.candidates:
            raise ValueError(
                f'{source}={name!r} names no {self.what} kernel; expected '
                f'one of {[AUTO, *self.candidates]}')
        return name

    def force(self, name: str = AUTO, where: str = '') -> None:
        """Take kernel ``name`` from now on (``'auto'``: measure);
        ``where`` (a config file) is named if ``name`` is unknown."""
        self.setting = self._checked(
            name, f'{where}: {self.setting_key}' if where else
            self.setting_key)

    def describe(self) -> str:
        """One line for a run's log: forced or measured, and by what."""
        forced = self.forced()
        if forced is None:
            return (f'{self.what} kernel: the fastest of '
                    f'{", ".join(self.candidates)}, measured per input '
                    f'({self.setting_key} or {self.env_var} can force one)')
        source = (self.setting_key if self.setting != AUTO else
                  self.env_var)
        return f'{self.what} kernel: {forced} (forced by {source})'

    def forced(self) -> Optional[str]:
        """The kernel a setting forces, or None to measure."""
        name = self.setting
        if name == AUTO:
            name = self._checked(os.environ.get(self.env_var, AUTO),
                                 self.env_var)
        return None if name == AUTO else name

    def state_dict(self) -> dict:
        """The choices made so far, and the machine they were timed on."""
        return dict(machine=machine_name(),
                    chosen=[[signature, name]
                            for signature, name in self.chosen.items()])

    def load_state_dict(self, state: dict) -> int:
        """Take the choices of ``state`` if they were timed on a machine
        like this one (same CPU, GPUs, threads and torch); returns how
        many were taken."""
        if state.get('machine') != machine_name():
            return 0
        taken = {signature: name for signature, name in state['chosen']
                 if name in self.candidates}
        self.chosen.update(taken)
        return len(taken)

    def pick(self, signature: Hashable, run: Callable[[str], None],
             device: torch.device, fallback: str) -> str:
        """The kernel measured fastest for inputs of ``signature``: the
        kept choice, or measured now (callers check :meth:`forced` first).

        Args:
            signature: What makes two calls comparable (hashable).
            run (callable): ``run(name)`` computes one representative call
                with kernel ``name`` (forward and backward where the call
                needs gradients), using no random numbers.
            device (torch.device): Where ``run`` computes.
            fallback (str): The kernel while ``torch.compile`` traces a
                signature not measured yet (timing cannot be traced).
        """
        if signature in self.chosen:
            return self.chosen[signature]
        if torch.compiler.is_compiling():
            return fallback
        seconds = {
            name: time_call(lambda: run(name), device)
            for name in self.candidates
        }
        best = min(seconds, key=seconds.get)
        self.chosen[signature] = best
        timings = ', '.join(f'{name} {1e3 * s:.2f} ms'
                            for name, s in seconds.items())
        print_log(
            f'{self.what} kernel for {signature}: {best} ({timings}; '
            f'{self.setting_key} / {self.env_var} can force one)',
            logger='current')
        return best
