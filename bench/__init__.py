"""Performance, apart from the course: how fast the trainer is against the textbook loop and against the
machine, and how good its samples are (`make bench`). The results (*.json, profile-*.txt) sit beside the code
that measured them; the tables of docs/performance.md and docs/quality.md are built from them.

    python -m bench              # speed (bench/speed.py); --profile, --quality, --tables: see there
    python -m bench.calibrate    # the quality report's reference points
"""
