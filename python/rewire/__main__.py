"""`python -m rewire export-nwb RUN_DIR OUT.nwb` (what `rewire export-nwb` calls)."""

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "export-nwb":
        print("usage: python -m rewire export-nwb RUN_DIR OUT.nwb", file=sys.stderr)
        return 2
    from .nwb import main as export

    return export(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
