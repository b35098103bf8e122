"""A lab's reference answers, and `expect`: every comparison a check makes goes through it.

- `ReferenceAnswers`: the reference file (checks/references/<lab>.npz), read
  lazily; it remembers every key a check asked for, and carries the lab's
  judges and hints to the comparison core.
- `expect(...)`: every comparison of a student's value with a reference answer.
  With the full reference (`make check`) it is decided at once
  (checks/core/compare.py). While autograding, the student's code runs in a
  worker that holds a BlindReference (the inputs, never the answers): there
  `expect` only records the value, and the grader's own process decides.
"""

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from checks.core.compare import Expectation, is_answer, judge_one
from checks.core.status import CheckFailure


# The public reference files' settings; the file records its own (meta_weights_seed,
# meta_batch), so a hidden reference made with other ones is checked the same way.
WEIGHTS_SEED = 231
BATCH = 5  # an odd batch size: catches networks that assume the training batch size

class ReferenceAnswers:
    """The reference file, read lazily; remembers every key a check asked for."""

    def __init__(self, path=None, arrays=None, judges=None, hints=None):
        self.path = Path(path) if path else None
        self.judges = dict(judges or {})   # the lab's judges of measurements without a stored answer
        self.hints = dict(hints or {})     # the lab's hints: why a value may be off
        if arrays is None:
            with np.load(self.path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        self._arrays = arrays
        self.used = set()
        self._context = {"advice": None, "suffix": "", "block": 0}
        self._blocks = 0

    def keys(self):
        return set(self._arrays)

    def shape(self, key):
        return tuple(self[key].shape)

    @contextmanager
    def advice(self, note):
        """Expectations inside are advice: if one differs, `note` (with {reason}) is a note, not a failure.

        Decided at once here, the CheckFailure still propagates (the check turns it into
        its note); a BlindReference records the note for the grader instead.
        """
        self._blocks += 1
        saved = dict(self._context)
        self._context.update(advice=note, block=self._blocks)
        try:
            yield
        finally:
            self._context = saved

    @contextmanager
    def suffix(self, text):
        """A difference found inside fails with `text` added to its message."""
        saved = dict(self._context)
        self._context["suffix"] += text
        try:
            yield
        finally:
            self._context = saved

    def expect(self, key, got, message, kind="close", rows=None, hint=()):
        """Compare the student's `got` (a tensor, array or number) with the answer `key`; raise CheckFailure
        with `message` filled in if it differs (see Expectation)."""
        arrays = got if isinstance(got, dict) else {"got": got}
        arrays = {k: _plain(v) for k, v in arrays.items()}
        expectation = Expectation(key, arrays, kind, message + self._context["suffix"],
                                  None if rows is None else np.asarray(rows), tuple(hint),
                                  self._context["advice"], self._context["block"])
        self._record(expectation)

    def _record(self, expectation):
        failure = judge_one(expectation, self)
        if failure:
            raise CheckFailure(failure)

    @property
    def weights_seed(self):
        return int(self["meta_weights_seed"])

    @property
    def batch(self):
        return int(self["meta_batch"])

    def __getitem__(self, key):
        self.used.add(key)
        return self._arrays[key]

    def tensor(self, key, requires_grad=False):
        """The array under `key` as a float64 tensor (a fresh copy each time)."""
        return torch.tensor(self[key], dtype=torch.float64, requires_grad=requires_grad)

    def strings(self, key):
        return [str(s) for s in self[key]]


def _plain(value):
    """A student's value as a numpy array (float64 for floating tensors), detached and on the CPU."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return (value.double() if value.is_floating_point() else value).numpy()
    return np.asarray(value)


class BlindReference(ReferenceAnswers):
    """A reference without its answers, for the worker that runs a student's code while autograding.

    It holds the inputs and settings, and the shapes of the answers; `expect`
    records the student's values (`take()` hands them over) and never decides.
    Reading an answer raises: only the grader's process may see them.
    """

    def __init__(self, arrays, shapes, judges=None, hints=None):
        super().__init__(arrays=arrays, judges=judges, hints=hints)
        self._shapes = shapes
        self.recorded = []

    @classmethod
    def of(cls, reference):
        """The blind copy of a full ReferenceAnswers: inputs, settings, and the answers' shapes only."""
        arrays = {k: v for k, v in reference._arrays.items() if not is_answer(k)}
        shapes = {k: v.shape for k, v in reference._arrays.items() if is_answer(k)}
        return cls(arrays, shapes, reference.judges, reference.hints)

    def save(self, path):
        """Write the blind reference (np.savez; the answers' shapes under `shape_of_<key>`)."""
        np.savez(path, **self._arrays, **{f"shape_of_{k}": np.array(v, dtype=np.int64)
                                          for k, v in self._shapes.items()})

    @classmethod
    def load(cls, path, judges=None, hints=None):
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if not k.startswith("shape_of_")}
            shapes = {k[len("shape_of_"):]: tuple(int(d) for d in data[k]) for k in data.files
                      if k.startswith("shape_of_")}
        return cls(arrays, shapes, judges, hints)

    def keys(self):
        return set(self._arrays) | set(self._shapes)

    def shape(self, key):
        return self._shapes[key] if key in self._shapes else super().shape(key)

    def __getitem__(self, key):
        if key in self._shapes:
            raise KeyError(f"{key} is an answer: a check compares with it through ref.expect(), never reads it")
        return super().__getitem__(key)

    def _record(self, expectation):
        self.recorded.append(expectation)

    def take(self):
        """The expectations recorded since the last call."""
        taken, self.recorded = self.recorded, []
        return taken


