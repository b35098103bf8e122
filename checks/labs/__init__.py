"""Each lab's checks, in the file of the lab's name: its tasks, their checks, hints and judges (`LAB = Lab(...)`).

checks/registry.py lists the labs; checks/core/ is the engine every lab builds on.
"""
