"""The stock race through real HTTP (issue #13 item 4): shared by bench/race.py and its CI test.

`shop` builds the store and reads the outcome (imports Django); `load` starts Gunicorn and plays
the customers (never imports Django).
"""
