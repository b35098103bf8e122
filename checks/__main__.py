import sys

from checks.runner import main

sys.exit(main())
