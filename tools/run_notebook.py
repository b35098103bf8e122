"""Run a notebook headless, top to bottom, as "Restart & Run All" would.

    python -m tools.run_notebook solutions/gan_pytorch.ipynb            # the main job (`make train`)
    python -m tools.run_notebook mode_collapse                  # a lab's instructor notebook, by the lab's name
    python -m tools.run_notebook NOTEBOOK --out executed.ipynb

What the notebook prints (progress bars included) is echoed here as it runs.
The executed notebook, with every output and figure, is written to --out even
when a cell fails, so nothing is lost; the exit status is 1 then.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from gan_assignment.provided.modules import PROJECT



class EchoingClient(NotebookClient):
    """A NotebookClient that also prints the cells' text output to this terminal."""

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            stream = sys.stderr if msg["content"]["name"] == "stderr" else sys.stdout
            stream.write(msg["content"]["text"])
            stream.flush()
        return super().output(outs, msg, display_id, cell_index)


def run_notebook(path, out, timeout=None, allow_errors=False, env=None):
    """Execute the notebook at `path` in its own folder; write the result to `out`.

    Returns the executed notebook. Raises CellExecutionError (after writing `out`)
    when a cell fails and allow_errors is False.
    """
    path, out = Path(path), Path(out)
    notebook = nbformat.read(path, as_version=4)
    # Text progress bars: widgets would not reach this terminal.
    saved = dict(os.environ)
    os.environ.update({"GAN_PROGRESS": "text", **(env or {})})
    client = EchoingClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                           resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out)
    return notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a notebook headless and keep its outputs.")
    parser.add_argument("notebook", help="a notebook file, or a lab's name (its solutions/ notebook)")
    parser.add_argument("--out", help="where to write the executed notebook (default: outputs/<name>.executed.ipynb)")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: no limit)")
    args = parser.parse_args(argv)
    from checks.registry import LABS

    if args.notebook in LABS:
        args.notebook = str(LABS[args.notebook].solution_notebook)
    out = Path(args.out or PROJECT / "outputs" / f"{Path(args.notebook).stem}.executed.ipynb")
    start = time.perf_counter()
    try:
        run_notebook(args.notebook, out, timeout=args.timeout)
    except CellExecutionError as e:
        print(f"\nA cell failed with {e.ename}: {e.evalue}\nThe notebook up to there, outputs included, "
              f"is in {out}.", file=sys.stderr)
        return 1
    print(f"\nDone in {time.perf_counter() - start:.0f} s. Executed notebook: {out}")
    print(f"Figures: {Path(os.environ.get('GAN_OUTPUT_DIR', PROJECT / 'outputs'))}/ (one folder per data set and lab)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
