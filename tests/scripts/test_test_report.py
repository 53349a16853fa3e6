"""The test totals count passes, failures and skips, and a missing report is a failure."""
from pathlib import Path

from attnsim import test_report

CTEST_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux" tests="4" failures="1" disabled="0" skipped="1">
  <testcase name="a" classname="a" time="0" status="run"/>
  <testcase name="b" classname="b" time="0" status="run"/>
  <testcase name="lint" classname="lint" time="0" status="run"><skipped message="skip"/></testcase>
  <testcase name="bad" classname="bad" time="0" status="fail"><failure message="boom"/></testcase>
</testsuite>
"""


def test_counts_passed_failed_and_skipped(tmp_path):
    (tmp_path / "c.xml").write_text(CTEST_XML)
    totals = test_report.read_junit("ctest", tmp_path / "c.xml")
    assert (totals.passed, totals.failed, totals.skipped) == (2, 1, 1)
    assert totals.failed_names == ["bad"]
    text, ok = test_report.summarize([totals])
    assert not ok
    assert "total   2 passed, 1 failed, 1 skipped: FAILED" in text


def test_a_suite_without_a_report_fails_the_run(tmp_path):
    (tmp_path / "c.xml").write_text(CTEST_XML.replace('status="fail"><failure message="boom"/>',
                                                      'status="run">'))
    assert test_report.main([f"ctest={tmp_path / 'c.xml'}"]) == 0
    assert test_report.main([f"ctest={tmp_path / 'c.xml'}",
                             f"pytest={tmp_path / 'absent.xml'}"]) == 1
