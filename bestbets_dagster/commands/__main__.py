import sys

from bestbets_dagster.commands.main import main

sys.exit(main())
