"""Department scorecards: split a master workbook into one file per department
(or manager), fill it with live scores, and collect the returned files.

- ``split``: one protected workbook per group, with live formulas and a
  fingerprint of its locked cells (``kpi-xl split``).
- ``collect``: merge returned actuals and comments into a new master, with
  every problem named by file and cell (``kpi-xl collect``).
- ``review``: the monthly review pack, one sheet per department, scored period
  by period (``periods``) when Scorecards has a period column, with the cascade
  check of ``alignment`` (``kpi-xl review``).
"""

