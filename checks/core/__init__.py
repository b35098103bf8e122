"""The checking engine: what every lab's checks are built from. It imports no lab.

Read it bottom-up:

- `status`: the words a verdict uses (PASS, FAIL, ...), a verdict (`Result`) and `CheckFailure`;
- `compare`: the comparison core: a student's value against a reference answer (relative error,
  tolerances), and the verdict on a whole task (`decide`). Labs hand in their own hints and
  judges (see `lab.Lab`); nothing here knows any lab;
- `answers`: the reference answers file (full, or blind while autograding) and `expect`;
- `networks`: fixed test weights, layer traces, small test networks;
- `helpers`: what every lab's checks use (fail, flat_params, float32 fallbacks, seed checks, a network
  left as it was found);
- `device`: whether a function would run on a GPU, tried on PyTorch's meta device (and a GPU if present);
- `specs`, `table`: how a task is called and the recipe of its reference answers;
- `generic`: the checks of networks, losses and optimisers that many labs share;
- `yours`: what a student's network did, in their own terms;
- `lab`: a Lab and its Tasks, and `points_for`, where a task's points are decided.

The labs (checks/labs/<lab>.py) sit above this engine, the registry (checks/registry.py)
above the labs, and the runner, grading and autograding above the registry.
"""
