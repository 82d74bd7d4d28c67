"""The Rules sheet: plan rules HR writes in a sheet, compiled and applied to everyone at once.

    language.py    text -> syntax tree (tokenizer and Pratt parser; nothing is executed)
    vocabulary.py  the names, functions and actions, and the stage each action acts at
    checking.py    names, KPI ids, types and stages checked against the workbook
    sheet.py       the Rules sheet -> checked rules, every problem with its cell
    evaluation.py  checked rules -> NumPy operations over all employees, applied by stage

The engine (kpi_xl/engine.py) calls the stages in order: score rules before the
tier lookup, tier rules after it, payout and eligibility rules on the payouts
before pools.  docs/workbook.md ("Rules sheet") is the user's description.
"""
