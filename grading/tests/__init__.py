# SPDX-License-Identifier: GPL-2.0
"""The grader's own unit tests: the host side of grading (labkit), with
canned autograder transcripts in data/ and no VM. Run them with
`make unit` (python3 -m unittest discover -s grading/tests -t grading)."""
