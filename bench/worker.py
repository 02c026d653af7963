"""One measurement in a fresh process: `python -m bench.worker MODULE.FUNCTION 'JSON'`.

The runner starts this with XUEJI_DATABASE_URL pointing at the database to use; Django is
set up here, the function (in bench/MODULE.py) is called with the JSON's keys, and what it
returns is printed on one line for the runner, with the process's peak memory.
"""

import importlib
import json
import resource
import sys

import django

from bench.common import RESULT_MARK


def main() -> None:
    task, params = sys.argv[1], json.loads(sys.argv[2])
    module_name, function_name = task.rsplit(".", 1)
    django.setup()
    module = importlib.import_module(f"bench.{module_name}")
    result = getattr(module, function_name)(**params) or {}
    # ru_maxrss is in kilobytes on Linux: the most this process ever held in memory.
    result["_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
