"""What a student hands over: the folder for Google Colab, and the files to submit (provided).

    python -m gan_assignment.provided.packaging colab                  # colab/gan-course: this folder for Colab
    python -m gan_assignment.provided.packaging submission FILE ...    # submission.zip of these files

`make colab` and `make submission` run these. The Colab copy holds exactly what
the notebooks need: the notebooks, gan_assignment/ (your files and the provided
code), checks/ and any trained weights (*.pt) beside the notebooks; never a
virtual environment (gigabytes), the data sets (torchvision downloads them
again in Colab), outputs, caches or instructor files.
"""

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

COLAB_FOLDER = Path("colab") / "gan-course"
TOP_FILES = ("*.ipynb", "*.pt", "README.md", "requirements.txt")   # taken from the top (the first two: and notebooks/)
PACKAGES = ("gan_assignment", "checks")
NEVER = ("__pycache__", ".ipynb_checkpoints", "*.pyc", "*.hidden.npz")


def colab_files(folder):
    """The files of `folder` (the course folder: a release, or the project) that Colab needs, relative to it."""
    folder = Path(folder)
    found = [p for pattern in TOP_FILES for p in folder.glob(pattern)]
    found += [p for pattern in TOP_FILES[:2] for p in (folder / "notebooks").glob(pattern)]
    found += [p for package in PACKAGES for p in (folder / package).rglob("*")]
    kept = [p for p in found if p.is_file() and not p.is_symlink() and not _never(p.relative_to(folder))]
    return sorted({p.relative_to(folder) for p in kept})


def _never(relative):
    return any(part == pattern or (pattern.startswith("*") and part.endswith(pattern[1:]))
               for part in relative.parts for pattern in NEVER)


def colab(folder=".", out=None):
    """Copy what Colab needs from `folder` to `out` (default: folder/colab/gan-course, replaced); returns `out`."""
    folder = Path(folder).resolve()
    out = Path(out) if out else folder / COLAB_FOLDER
    if out.exists():
        shutil.rmtree(out)
    files = colab_files(folder)
    for relative in files:
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / relative, out / relative)
    size = sum((out / f).stat().st_size for f in files) / 2 ** 20
    print(f"Wrote {out}: {len(files)} files, {size:.1f} MB. Drag the folder {out.name} onto My Drive at "
          "drive.google.com, then open a notebook in it with Google Colaboratory (your README's 'Google Colab', or "
          "docs/students.md in the course kit).")
    return out


def submission(files, out="submission.zip"):
    """Zip `files` (paths relative to the current folder) into `out`; says which are missing. Returns `out`."""
    present = [Path(f) for f in files if Path(f).is_file()]
    missing = [str(f) for f in files if not Path(f).is_file()]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in present:
            archive.write(path, path.as_posix())
    print(f"Wrote {out} with {', '.join(map(str, present)) or 'nothing'}.")
    if missing:
        print(f"Not found, so not in it: {', '.join(missing)} (run the notebook to the end to make it).")
    return Path(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan_assignment.provided.packaging", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("colab", help="copy what Colab needs to colab/gan-course")
    handing_in = commands.add_parser("submission", help="zip the files to hand in into submission.zip")
    handing_in.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "colab":
        colab()
    else:
        submission(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
