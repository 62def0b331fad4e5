"""Import of the monthly case data extract, schema 1 (DESIGN.md section 3).

`import_extract(path, actor=..., progress=...)` makes the stored case data equal to the extract, all or
nothing; a bad extract raises `ExtractRefused` listing its problems as `file:line: column: value: reason`.
"""

from complexcases.people.importer.problems import ExtractRefused, Problem
from complexcases.people.importer.service import ImportResult, import_extract

__all__ = ["ExtractRefused", "ImportResult", "Problem", "import_extract"]
