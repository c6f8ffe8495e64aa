#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check that a file is one well-formed KTAP v1 document, and count it.

The grammar is the kernel's Documentation/dev-tools/ktap.rst, read strictly
for the documents this project prints (c-tests/ktap.h, c-tests/run.sh):

  - the document opens with "KTAP version 1" at column 0, then its plan
    "1..N"; every subtest opens with its own version line, indented deeper
    than its parent, then an optional "# Subtest: NAME", then its plan;
  - the version, subtest, plan and result lines of a test sit exactly at
    its indentation; a line indented less ends the subtest, which must then
    be closed by its result line in the parent, named as the subtest;
  - result lines are "ok|not ok NUM [- ]DESCRIPTION[ # DIRECTIVE ...]",
    numbered from 1 without gaps; a plan's count matches its results;
  - a parent is "not ok" exactly when one of its subtests failed (else the
    failure would be invisible to consumers that count cases, as the
    kernel's kunit.py does); a SKIP directive skips, whatever the result;
  - every line is one of these or a diagnostic ("#" after the indentation):
    no unknown lines, no blank lines;
  - after the top-level plan's last result only diagnostics may follow,
    and the plain totals line "P passed, F failed", which must agree with
    the cases counted (a case is a test without subtests); so must the
    "# NAME: pass:P fail:F skip:S total:T" line before a subtest's result
    line and a closing "# Totals: pass:P ..." line.

Usage:
  ktap_check.py [--totals] FILE...   check each; "-" is stdin; --totals
                                     requires the closing totals line
  ktap_check.py --self-test DIR      DIR/good-*.ktap must pass, and each
                                     DIR/bad-*.ktap must fail with the error
                                     its "# expect-error: TEXT" line names
Prints one line per file; exits 1 on the first file that fails.
"""

import glob
import os
import re
import sys

VERSION = re.compile(r'KTAP version (\d+)$')
SUBTEST = re.compile(r'# Subtest: (.+)$')
PLAN = re.compile(r'1\.\.(\d+)$')
RESULT = re.compile(r'(ok|not ok) (\d+)(?: - | )?([^#]*?)\s*(?:# ?(.*))?$')
STATS = re.compile(r'# (\S+): pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)$')
TOTALS = re.compile(r'(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$')


class KtapError(Exception):
    def __init__(self, lineno, message):
        super().__init__(f'line {lineno}: {message}')


class Counts:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def total(self):
        return self.passed + self.failed + self.skipped

    def __str__(self):
        return (f'{self.total()} cases: {self.passed} passed, '
                f'{self.failed} failed, {self.skipped} skipped')


class Test:
    """A test: a name, a result, and its subtests' counts (if any)."""

    def __init__(self):
        self.name = None
        self.ok = None
        self.skip = False
        self.subtests = 0
        self.counts = Counts()


def split(line):
    """(indentation, rest) of a line; tabs are not indentation here."""
    rest = line.lstrip(' ')
    return len(line) - len(rest), rest


class Reader:
    def __init__(self, lines):
        self.lines = lines
        self.pos = 0
        self.suites = 0

    def peek(self):
        if self.pos < len(self.lines):
            return self.lines[self.pos]
        return None

    def lineno(self):
        return self.pos + 1

    def fail(self, message):
        raise KtapError(self.lineno(), message)

    def classify(self, line):
        if TOTALS.match(line):
            return 0, 'totals', line
        indent, rest = split(line)
        if VERSION.match(rest):
            return indent, 'version', rest
        if PLAN.match(rest):
            return indent, 'plan', rest
        if RESULT.match(rest) and not rest.startswith('#'):
            return indent, 'result', rest
        if SUBTEST.match(rest):
            return indent, 'subtest', rest
        if rest.startswith('#'):
            return indent, 'diag', rest
        self.fail(f'not a KTAP line: {line!r}')
        return None

    def header(self, indent, top):
        """Version line, optional "# Subtest:", plan; returns (name, N)."""
        line = self.peek()
        if line is None:
            self.fail('no KTAP version line')
        at, kind, rest = self.classify(line)
        if kind != 'version' or at != indent:
            self.fail(f'expected "KTAP version 1" at column {indent}')
        version = int(VERSION.match(rest).group(1))
        if version != 1:
            self.fail(f'KTAP version {version}, not 1')
        self.pos += 1
        name = None
        line = self.peek()
        if line is not None:
            at, kind, rest = self.classify(line)
            if kind == 'subtest' and at == indent:
                if top:
                    self.fail('"# Subtest:" on the top-level document')
                name = SUBTEST.match(rest).group(1)
                self.pos += 1
        line = self.peek()
        if line is None:
            self.fail('document ends before its plan')
        at, kind, rest = self.classify(line)
        if kind != 'plan' or at != indent:
            self.fail(f'expected the plan "1..N" at column {indent}')
        self.pos += 1
        return name, int(PLAN.match(rest).group(1))

    def body(self, indent, planned, test):
        """The lines of a test at @indent, up to its last planned result.

        Stops at a line indented less than @indent (an outdented diagnostic
        before the plan is done is an error), at the totals line, at the
        end, or once the plan is done at anything but a diagnostic, which
        belongs to the innermost open test.  Counts into @test.
        """
        number = 0
        child = None   # a subtest parsed, waiting for its result line
        stats = None   # a "# NAME: pass:..." line seen after it
        while True:
            line = self.peek()
            if line is None or (indent == 0 and number == planned):
                break
            at, kind, rest = self.classify(line)
            if kind == 'result' and at == indent and number == planned:
                self.fail(f'result {RESULT.match(rest).group(2)} past the '
                          f'plan 1..{planned}')
            if kind == 'totals' or (number == planned and kind != 'diag'):
                break
            if at < indent:
                if kind == 'diag' and number < planned:
                    self.fail(f'diagnostic outdented (column {at}) inside '
                              f'a subtest at column {indent} before its '
                              f'last result ({number} of {planned})')
                break
            if kind == 'diag':
                m = STATS.match(rest)
                if m and child is not None and at == indent:
                    stats = (self.lineno(), m)
                self.pos += 1
                continue
            if kind == 'version':
                if at == indent:
                    self.fail('a second version line at the same depth: '
                              'subtests must be indented')
                if child is not None:
                    self.fail(f'missing subtest result line for '
                              f'{child.name or number + 1}')
                child = Test()
                name, n = self.header(at, False)
                child.name = name
                self.body(at, n, child)
                if child.subtests != n:
                    self.fail(f'subtest {name or number + 1}: plan 1..{n} '
                              f'but {child.subtests} results')
                stats = None
                continue
            if kind in ('plan', 'subtest'):
                self.fail(f'{kind} line out of place')
            if at != indent:
                self.fail(f'result line at column {at}, not {indent}')
            m = RESULT.match(rest)
            number += 1
            if int(m.group(2)) != number:
                self.fail(f'result numbered {m.group(2)}, expected {number}')
            ok = m.group(1) == 'ok'
            desc = m.group(3)
            directive = (m.group(4) or '').split(' ')[0].upper()
            sub = child if child is not None else Test()
            if child is not None and child.name is not None and \
                    desc != child.name:
                self.fail(f'missing subtest result line: "{child.name}" '
                          f'closed by a result named "{desc}"')
            sub.name, sub.ok, sub.skip = desc, ok, directive == 'SKIP'
            if child is not None:
                self.suites += 1
                failed = sub.counts.failed > 0
                if not sub.skip and ok == failed:
                    self.fail(f'"{desc}" is {m.group(1)} but '
                              f'{sub.counts.failed} of its cases failed')
                if stats is not None:
                    check_stats(stats, desc, sub.counts)
                test.counts.add(sub.counts)
            elif sub.skip:
                test.counts.skipped += 1
            elif ok:
                test.counts.passed += 1
            else:
                test.counts.failed += 1
            test.subtests += 1
            child, stats = None, None
            self.pos += 1
        if child is not None:
            self.fail(f'missing subtest result line for '
                      f'{child.name or number + 1}')
        return None


def check_stats(stats, name, counts):
    lineno, m = stats
    if m.group(1) != name:
        raise KtapError(lineno, f'stats of "{m.group(1)}" before the '
                        f'result of "{name}"')
    got = tuple(int(x) for x in m.group(2, 3, 4, 5))
    want = (counts.passed, counts.failed, counts.skipped, counts.total())
    if got != want:
        raise KtapError(lineno, f'"{name}" stats say pass/fail/skip/total '
                        f'{got}, its cases {want}')


def check(lines, need_totals):
    """Check one document; returns (Counts, suites) or raises KtapError."""
    reader = Reader(lines)
    top = Test()
    _, planned = reader.header(0, True)
    reader.body(0, planned, top)
    if top.subtests != planned:
        raise KtapError(reader.lineno(), f'plan 1..{planned} but '
                        f'{top.subtests} results')
    totals = None
    while reader.peek() is not None:
        line = reader.peek()
        at, rest = split(line)
        m = TOTALS.match(line)
        t = re.match(r'# Totals: pass:(\d+) fail:(\d+) skip:(\d+) '
                     r'total:(\d+)$', line)
        if m:
            if totals is not None:
                reader.fail('a second totals line')
            totals = m
            got = (int(m.group(1)), int(m.group(2)))
            want = (top.counts.passed, top.counts.failed)
            if got != want or (m.group(3) is not None and
                               int(m.group(3)) != top.counts.skipped):
                reader.fail(f'totals line says "{line}", the document '
                            f'counts {top.counts}')
        elif t:
            got = tuple(int(x) for x in t.groups())
            c = top.counts
            if got != (c.passed, c.failed, c.skipped, c.total()):
                reader.fail(f'"{line}" but the document counts {c}')
        elif totals is not None:
            reader.fail('lines after the totals line')
        elif rest.startswith('#') and at == 0:
            pass
        elif VERSION.match(rest):
            reader.fail('a second KTAP document')
        else:
            reader.fail(f'after the last planned result, only top-level '
                        f'diagnostics and the totals line: {line!r}')
        reader.pos += 1
    if need_totals and totals is None:
        raise KtapError(len(lines), 'no closing "P passed, F failed" line')
    return top.counts, reader.suites


def read(path):
    if path == '-':
        return sys.stdin.read().splitlines()
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read().splitlines()


def check_file(path, need_totals):
    counts, suites = check(read(path), need_totals)
    return f'{suites} suites, {counts}'


def self_test(directory):
    good = sorted(glob.glob(os.path.join(directory, 'good-*.ktap')))
    bad = sorted(glob.glob(os.path.join(directory, 'bad-*.ktap')))
    if not good or not bad:
        print(f'ktap_check: no good-*.ktap and bad-*.ktap in {directory}')
        return 1
    for path in good:
        try:
            check_file(path, True)
        except KtapError as e:
            print(f'ktap_check: {path} is valid but was rejected: {e}')
            return 1
    for path in bad:
        lines = read(path)
        want = [ln.split('# expect-error: ', 1)[1] for ln in lines
                if '# expect-error: ' in ln]
        if len(want) != 1:
            print(f'ktap_check: {path}: no "# expect-error: " line')
            return 1
        try:
            check(lines, True)
        except KtapError as e:
            if want[0] not in str(e):
                print(f'ktap_check: {path} failed for another reason: '
                      f'{e} (expected "{want[0]}")')
                return 1
            continue
        print(f'ktap_check: {path} is malformed but was accepted')
        return 1
    print(f'ktap_check: self-test: {len(good)} valid documents accepted, '
          f'{len(bad)} malformed ones rejected for the expected reason')
    return 0


def main(argv):
    need_totals = False
    if argv[:1] == ['--self-test'] and len(argv) == 2:
        return self_test(argv[1])
    if argv[:1] == ['--totals']:
        need_totals = True
        argv = argv[1:]
    if not argv or any(a.startswith('--') for a in argv):
        print(__doc__.split('Usage:')[1].split('Prints')[0], file=sys.stderr)
        return 2
    for path in argv:
        try:
            summary = check_file(path, need_totals)
        except KtapError as e:
            print(f'ktap_check: {path}: {e}')
            return 1
        except OSError as e:
            print(f'ktap_check: {path}: {e}')
            return 1
        print(f'ktap_check: {path}: KTAP v1, {summary}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
