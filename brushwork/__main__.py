"""``python -m brushwork`` runs the command line."""

import sys

from brushwork.cli import main

sys.exit(main())
