"""The `xueji` command: Django's management commands plus Xueji's own.

xueji migrate            xueji demo             xueji serve --port 8000
xueji worker             xueji audit verify     xueji init_county ...
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xueji", *sys.argv[1:]])


if __name__ == "__main__":
    main()
