"""`python -m gan_assignment MODEL`: train any model of any lab from the command line (see provided/train.py)."""

import sys

from gan_assignment.provided.train import main

sys.exit(main())
