"""Performance, apart from the course: how fast the trainer is against the textbook loop and against the
machine, and how good its samples are (`make bench`). The results (*.json, profile-*.txt) sit beside the code
that measured them; the README's performance page (docs/performance.md) is built from them.

    python -m bench              # speed (bench/speed.py); --profile, --quality, --readme: see there
    python -m bench.calibrate    # the quality report's reference points
"""
