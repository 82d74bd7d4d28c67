"""The add-in files (installed as ``kpi_xl.addin``): ``officejs/`` is served by
``kpi-xl serve``, ``classic/`` holds the xlwings .xlam, ``lite/`` the xlwings
Lite script. No code lives here."""
