"""`python -m hwcli` runs the `hw` command line (also under torchrun)."""

from hwcli.cli import main

if __name__ == "__main__":
    main()
