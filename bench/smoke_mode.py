"""``--smoke``: every bench script at tiny sizes, a few seconds, so CI runs it (tests/test_bench_smoke.py).

The figures are printed as usual and judged by no one: the point is that the script still runs
against the current code. What a script cannot run here it names on a ``smoke: skipped`` line;
under ``CI=true`` a skip is allowed only for what the project's test command does not install.
"""
import argparse
import os
import sys


def parse(parser: argparse.ArgumentParser, sizes: dict, argv=None) -> argparse.Namespace:
    """``parser.parse_args`` with a ``--smoke`` flag that overrides the options in ``sizes``."""
    shown = ', '.join(f'{k.replace("_", "-")} {v}' for k, v in sizes.items())
    sized = f' ({shown})' if shown else ''
    parser.add_argument('--smoke', action='store_true',
                        help=f'a few seconds at tiny sizes{sized}, figures not meaningful: what CI runs')
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in sizes.items():
            setattr(args, name, value)
        print('smoke mode' + (f': {shown}' if shown else ''), flush=True)
    return args


def skipped(what: str, why: str, ci_installs: bool) -> None:
    """Say what this run leaves out; fail instead when CI should have had it."""
    print(f'smoke: skipped {what}: {why}', flush=True)
    if ci_installs and os.environ.get('CI') == 'true':
        sys.exit(f'smoke: {what} is missing, and the test command installs it (CI=true): failing')
