"""The `bestbets` command: click commands, one module per group, each a call into the domain or a Dagster job
(main.py declares the group and the entry point)."""
