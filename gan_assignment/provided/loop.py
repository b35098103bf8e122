"""The loop that every training of the course runs (provided): the step is the algorithm, the rest is here.

    loop = TrainingLoop({"D": D, "G": G, "D_solver": D_solver, "G_solver": G_solver}, total=3900)
    result = loop.run(step)          # step(iteration) -> {"d_loss": loss, "g_loss": loss}

A step function does one iteration of an algorithm (the classic GAN step, five
critic steps and a generator step, one encoder step) and returns its losses.
Around it, the loop:

- shows a progress bar with the latest losses;
- calls `on_show(iteration)` every `show_every` iterations, before that
  iteration's step (what G makes after `iteration` steps: the snapshots);
- reads the losses back only every CHECK_EVERY iterations: on a GPU each read
  waits for all queued work, so the loop never waits in between;
- stops when a loss becomes NaN or infinite, and puts the networks and
  optimisers (`parts`) back to the last state whose losses were all finite;
- saves a checkpoint at every `on_show` (the parts, the random generator, the
  losses and whatever `extra()` returns) and goes on from it when it exists;
- stops cleanly on Ctrl-C (interrupting a notebook's kernel), keeping every
  complete iteration, and after `seconds` of wall time when that is given.
"""

import copy
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

CHECK_EVERY = 50      # iterations between two loss read-backs (progress bar, NaN check, last good state)


@dataclass
class LoopResult:
    """What a run of the loop did."""
    losses: dict                 # {name: [float per iteration]}, from the first iteration (resumed runs too)
    iterations: int              # complete iterations, in all
    start: int = 0               # the iteration this run started at (after a resumed checkpoint)
    stopped: str = None          # None, "diverged" (a loss became NaN or inf) or "interrupted" (Ctrl-C)
    first_bad: int = None        # where the losses stopped being finite (diverged only)
    seconds: float = 0.0         # wall time of this run's iterations
    extra: dict = field(default_factory=dict)   # what a resumed checkpoint saved besides the loop's own state


class TrainingLoop:
    """Progress, snapshots, checkpoints, NaN recovery, interruption and a time budget around a step function.

    - parts: {name: module or optimiser}: what a checkpoint saves and a divergence restores;
    - total: the iteration to train up to (None: until `seconds` run out); rng: a torch.Generator saved with
      the checkpoint;
    - show_every: iterations between two calls of on_show (and checkpoints); None: never;
    - checkpoint: a file path; if it exists, training resumes from it;
    - seconds: stop after this much wall time (None: no limit); progress: show a progress bar, labelled `desc`.
    """

    def __init__(self, parts, total, rng=None, show_every=None, checkpoint=None, seconds=None, progress=True,
                 desc="training"):
        if total is None and seconds is None:
            raise ValueError("a training loop needs an end: a number of iterations, or seconds of wall time")
        self.parts, self.total, self.rng, self.show_every = parts, total, rng, show_every
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.seconds, self.progress, self.desc = seconds, progress, desc
        self.losses, self.start = {}, 0

    def resume(self, device=None):
        """Load the checkpoint if there is one: the parts, the random generator and the losses come back; returns
        what `extra` had saved (empty when there is no checkpoint)."""
        if self.checkpoint is None or not self.checkpoint.exists():
            return {}
        saved = torch.load(self.checkpoint, map_location=device, weights_only=False)
        if not isinstance(saved, dict) or "parts" not in saved:
            raise ValueError(f"{self.checkpoint} was written by an earlier version of the course's trainer and cannot "
                             "be resumed: delete it (or train into another folder) to start afresh")
        for name, part in self.parts.items():
            part.load_state_dict(saved["parts"][name])
        if self.rng is not None:
            self.rng.set_state(saved["rng"].cpu())   # a generator's state is a CPU byte tensor, even for CUDA
        self.start = saved["iteration"]
        self.losses = {name: [torch.tensor(v, device=device) for v in values] for name, values in saved["losses"].items()}
        print(f"Resuming from {self.checkpoint} at iteration {self.start} of {self.total}.")
        return saved["extra"]

    def save(self, iteration, extra=None):
        """Write the checkpoint (never half-written: to a temporary file first, then renamed)."""
        if self.checkpoint is None:
            return
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        state = {"parts": {name: part.state_dict() for name, part in self.parts.items()}, "iteration": iteration,
                 "rng": self.rng.get_state() if self.rng is not None else None,
                 "losses": floats(self.losses), "extra": extra() if extra else {}}
        temporary = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(state, temporary)
        os.replace(temporary, self.checkpoint)

    def run(self, step, on_show=None, extra=None):
        """Call step(iteration) from where the loop stands up to `total`; returns a LoopResult."""
        it, stopped, good = self.start, None, self._good()
        finite = torch.ones((), dtype=torch.bool)
        bar, began = progress_bar(self.total, self.start, self.progress, self.desc), time.perf_counter()
        try:
            while self.total is None or it < self.total:
                if self.show_every and it % self.show_every == 0 and on_show is not None:
                    on_show(it)
                for name, value in step(it).items():
                    value = torch.as_tensor(value).detach().reshape(()).float()   # a loss of shape (1,) too
                    self.losses.setdefault(name, []).append(value)
                    finite = finite.to(value.device) & torch.isfinite(value)
                it += 1
                bar.update(1)
                out_of_time = self.seconds is not None and time.perf_counter() - began >= self.seconds
                showing = self.show_every and it % self.show_every == 0
                if out_of_time or showing or it % CHECK_EVERY == 0 or it == self.total:
                    if not bool(finite):          # the one host-device synchronisation of this stretch
                        stopped = "diverged"
                        break
                    good = self._good()
                    bar.set_postfix({name: f"{float(values[-1]):.3f}" for name, values in self.losses.items()})
                    if showing:
                        self.save(it, extra)
                    if out_of_time:
                        break
        except KeyboardInterrupt:
            stopped = "interrupted"
        finally:
            bar.close()
        return self._finish(it, stopped, good, extra, time.perf_counter() - began)

    def _good(self):
        """A copy of the parts' state and how many iterations it holds: where a divergence goes back to."""
        return copy.deepcopy({name: part.state_dict() for name, part in self.parts.items()}), \
            len(next(iter(self.losses.values()), []))

    def _finish(self, it, stopped, good, extra, seconds):
        first_bad = None
        if stopped == "diverged":
            first_bad = next(i for i in range(len(next(iter(self.losses.values()))))
                             if not all(math.isfinite(float(v[i])) for v in self.losses.values()))
            state, it = good
            for name, part in self.parts.items():
                part.load_state_dict(state[name])
            warnings.warn(
                f"{self.desc} stopped: a loss became NaN or infinite at iteration {first_bad}. The networks and "
                f"optimisers are back at iteration {it}, the last state with finite losses. Common causes: a loss "
                "that takes log(0) (use the stable BCE), a learning rate that is too high, or a missing Tanh.",
                stacklevel=3)
        for values in self.losses.values():   # only complete iterations count (an interrupted step may be half done)
            del values[it:]
        self.save(it, extra)
        return LoopResult(floats(self.losses), it, self.start, stopped, first_bad, seconds)


def floats(losses):
    """{name: [float, ...]} of the loop's losses (tensors on the training device: read back in one go)."""
    return {name: torch.stack(values).cpu().tolist() if values else [] for name, values in losses.items()}


class NoBar:
    """What progress_bar returns when there is to be no bar: the same calls, doing nothing."""

    def __init__(self, initial):
        self.n = initial

    def set_postfix(self, *args, **kwargs):
        pass

    def update(self, k):
        self.n += k

    def close(self):
        pass


def progress_bar(total, initial=0, enabled=True, desc="training"):
    """A tqdm progress bar: a widget in Jupyter, text elsewhere; GAN_PROGRESS=text forces text (headless notebook
    runs, whose widgets nobody sees). With enabled=False, a NoBar."""
    if not enabled:
        return NoBar(initial)
    if os.environ.get("GAN_PROGRESS") == "text":
        from tqdm import tqdm
        return tqdm(total=total, initial=initial, desc=desc, unit="it", mininterval=2, file=sys.stderr)
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, desc=desc, unit="it")
