"""The Excel layer: custom functions and button actions, thin over the public API.

- ``functions``: =KPI_SCORE(...) and friends as plain Python, their Excel help
  text, and the metadata every host registers them with;
- ``actions``: the ribbon/task-pane buttons (Check, Score, New template) over
  any book - an open xlwings Book, or the JSON payload of the Office.js client
  (``payload``);
- ``classic``: the classic xlwings add-in (Windows/macOS desktop Excel);
- the Office.js host is served by ``kpi_xl.server`` (``kpi-xl serve``).

Nothing here computes a number: every number comes from kpi_xl.api and
kpi_xl.cells, which run the same kernels as ``kpi-xl score``.
"""
