"""The leaderboard: validated run summaries in, ``README.md`` and a static ``index.html`` out.

``submissions`` reads and checks summaries, ``table`` aggregates them with
pandas, ``svg`` draws the plots, ``render`` writes Markdown and HTML, and
``build`` ties them together so that nothing is written unless every input is
valid.
"""
