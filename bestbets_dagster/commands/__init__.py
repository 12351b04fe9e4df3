"""What the `bestbets` commands do, one module per command group; cli.py parses and calls in."""
