"""Parses each HTML file given with html5lib in strict mode: any parse error is a failure, named with its file."""
import sys

import html5lib

failed = False
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        try:
            html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(handle)
        except Exception as error:  # html5lib raises ParseError with the position
            print(f"{path}: {error}")
            failed = True
sys.exit(1 if failed else 0)
